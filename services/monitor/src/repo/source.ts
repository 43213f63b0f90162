/** The CloudEvents `source` of every monitor event. */
export const SOURCE = 'switchyard/monitor';

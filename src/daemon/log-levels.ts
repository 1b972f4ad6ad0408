// berthd's log levels (pino's names, dockerd's flag values).
export const logLevels = ['debug', 'info', 'warn', 'error', 'fatal'] as const;

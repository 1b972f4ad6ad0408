// Berth's release, reported by berthd (/version, Server header) and by `berth --version`.
export const BERTH_VERSION = '0.1.0';

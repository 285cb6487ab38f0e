/** A setting from the environment that is missing or wrong: says which, and what to do. */
export class ConfigError extends Error {}

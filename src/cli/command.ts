import { InvalidArgumentError } from 'commander';

/**
 * What a command file under `src/cli/commands/` exports as default: a function building its
 * commander `Command`. Adding a command is adding one such file (the program finds them all).
 * Keep heavy imports inside the action (`await import(...)`): every command file is loaded to
 * build the program, so `pronto --help` stays fast.
 */
export type CommandFactory = () => import('commander').Command;

/**
 * A wrong invocation that the option parsers could not catch alone (options that exclude each
 * other, a value that depends on another): printed as one line, exit status 2.
 */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** Option parser: a whole number ≥ `min` (commander reports a rejected value as a usage error). */
export function wholeNumber(min: number): (value: string) => number {
  return (value) => {
    const parsed = Number(value);
    if (!Number.isInteger(parsed) || parsed < min) throw new InvalidArgumentError(`expected a whole number ≥ ${min}`);
    return parsed;
  };
}

/** Option parser: a finite number ≥ `min`, or > `min` when `exclusive`. */
export function number(min: number, exclusive = false): (value: string) => number {
  return (value) => {
    const parsed = Number(value);
    const ok = value.trim() !== '' && Number.isFinite(parsed) && (exclusive ? parsed > min : parsed >= min);
    if (!ok) throw new InvalidArgumentError(`expected a number ${exclusive ? '>' : '≥'} ${min}`);
    return parsed;
  };
}

import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import type { Config } from './schema.js';

/** A file's changes arrive as several events (write, then metadata): reload once after they settle. */
const SETTLE_MS = 100;

export type ReloadListener = (config: Config) => void;

/**
 * One reload mechanism for every reloadable setting (keys, variants...): SIGHUP (installed by
 * `pronto serve`) or a change to a watched file re-reads the config from its sources; a config
 * that loads is handed to every subscriber, one that does not is reported and changes nothing.
 */
export interface ConfigReloads {
  /** Called with each accepted config, after the reload that produced it. Returns an unsubscribe. */
  subscribe(listener: ReloadListener): () => void;
  /** Re-reads now (what SIGHUP does). False when the new config was refused. */
  reload(reason: string): boolean;
  /** The latest accepted config. */
  current(): Config;
  close(): void;
}

export interface ReloadOptions {
  /** Reads the config from the same sources as at start (file, env, flags). */
  load: () => Config;
  /** Files whose change triggers a reload (the config file, auth.keys_file). */
  files: string[];
  onReload: (reason: string) => void;
  onError: (err: unknown, reason: string) => void;
}

export function createConfigReloads(initial: Config, options: ReloadOptions): ConfigReloads {
  let current = initial;
  const listeners = new Set<ReloadListener>();
  const watchers = options.files.map((file) => watchFile(file, () => reloads.reload(`${basename(file)} changed`)));

  const reloads: ConfigReloads = {
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    reload(reason) {
      let next: Config;
      try {
        next = options.load();
        // A subscriber refuses a config by throwing (the key ring does, for a bad keys file): it
        // subscribes first, so no later subscriber sees a config that was refused.
        for (const listener of listeners) listener(next);
      } catch (err) {
        options.onError(err, reason);
        return false;
      }
      current = next;
      options.onReload(reason);
      return true;
    },
    current: () => current,
    close() {
      for (const watcher of watchers) watcher.close();
    },
  };
  return reloads;
}

/**
 * Watches the file's directory rather than the file: editors and config management replace a file
 * by renaming a new one over it, which ends a watch on the old inode. node:fs's inotify watch is
 * all this needs; a watcher library would add polling fallbacks pronto has no use for on Linux.
 */
function watchFile(file: string, changed: () => void): { close(): void } {
  const path = resolve(file);
  let timer: NodeJS.Timeout | undefined;
  let watcher: FSWatcher;
  try {
    watcher = watch(dirname(path), { persistent: false }, (_event, name) => {
      if (name !== basename(path)) return;
      clearTimeout(timer);
      timer = setTimeout(changed, SETTLE_MS);
    });
  } catch {
    // A directory that does not exist (yet) is not watched; SIGHUP still reloads.
    return { close() {} };
  }
  return {
    close() {
      clearTimeout(timer);
      watcher.close();
    },
  };
}

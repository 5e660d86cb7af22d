import { Command, Option } from 'commander';

interface CreateOptions {
  tenant: string;
  id?: string;
  role?: 'tenant' | 'operator';
  route?: string[];
  namespace?: string[];
  allowVariantOverride?: boolean;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

export default function keys(): Command {
  const create = new Command('create')
    .description('make a new API key: prints the key once (pronto keeps only its SHA-256) and the record to add to auth.keys or the keys file')
    .requiredOption('--tenant <tenant>', 'the tenant the key acts for')
    .option('--id <id>', 'a name for the key in logs and errors (default: TENANT-<random>)')
    .addOption(new Option('--role <role>', 'operator: may also read what spans every tenant (/stats)').choices(['tenant', 'operator']))
    .option('--route <pattern>', 'a route the key may use, e.g. /v1/search or /v1/jobs* (repeat; default: all)', collect)
    .option('--namespace <pattern>', 'a namespace the key may use (repeat; default: all)', collect)
    .option('--allow-variant-override', 'may force a pipeline variant by header')
    .addHelpText('after', '\nExample:\n  pronto keys create --tenant acme --route /v1/search --namespace docs')
    .action(async (options: CreateOptions) => {
      const { createKey } = await import('../../config/keys.js');
      const { key, record } = createKey({
        tenant: options.tenant,
        id: options.id,
        role: options.role,
        routes: options.route,
        namespaces: options.namespace,
        allow_variant_override: options.allowVariantOverride,
      });
      process.stdout.write(
        `key: ${key}\n` +
          '  (shown once: hand it to the client now; it cannot be recovered, only replaced)\n' +
          'add this line to auth.keys, or to the keys file (auth.keys_file: reloaded on change):\n' +
          `- ${JSON.stringify(record)}\n`,
      );
    });
  return new Command('keys').description('manage API keys').addCommand(create);
}

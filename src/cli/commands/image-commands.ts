import type { Command } from 'commander'
import type { Output } from '../output.js'
import type { Where } from '../actions/image-actions.js'

/** the implementation, loaded when an image command runs: the store, the planner, a line or libp2p */
const actions = async (): Promise<typeof import('../actions/image-actions.js')> => await import('../actions/image-actions.js')

function whereOptions (command: Command): Command {
  return command
    .option('--warehouse <dir>', "a stopped plant's folder (its dataDir)")
    .option('--plant <multiaddr>', 'a running plant')
    .option('--psk <file>', "with --plant: a closed federation's swarm key (`vmplant federation key`), needed to reach its plants")
}

export function registerImageCommands (program: Command, out: Output): void {
  whereOptions(program.command('plan')
    .description('show which golden image a plant would clone for a spec, which actions it saves, and why the other images fail')
    .requiredOption('--spec <file>', 'the VM spec; - reads it from standard input')
    .option('--line <kind>', 'production line whose images count, with --warehouse (default: the only kind there)'))
    .option('--json', 'print JSON')
    .action(async (options: Where & { spec: string, json?: boolean }) => { await (await actions()).plan(options, out) })

  const image = program.command('image').description('golden images in a plant\'s warehouse')

  whereOptions(image.command('list').description('list the golden images'))
    .option('--json', 'print JSON')
    .action(async (options: Where & { json?: boolean }) => { await (await actions()).listImages(options, out) })

  whereOptions(image.command('inspect').description('show one golden image: descriptor, files, use').argument('<id>', 'the image id'))
    .action(async (id: string, options: Where) => { await (await actions()).inspectImage(id, options, out) })

  image.command('remove').description('remove a golden image and the files no other image uses (the plant must be stopped)')
    .argument('<id>', 'the image id')
    .requiredOption('--warehouse <dir>', "the stopped plant's folder (its dataDir)")
    .action(async (id: string, options: { warehouse: string }) => { await (await actions()).removeImage(id, options, out) })

  const publish = async (options: { config: string, spec?: string }): Promise<void> => { await (await actions()).publish(options, out) }

  image.command('publish')
    .description('build a golden image with a spec\'s actions applied, on the plant\'s production line, and add it to its warehouse (the plant must be stopped)')
    .requiredOption('--config <file>', "the plant's node config (its dataDir and driver)")
    .requiredOption('--spec <file>', 'hardware, and the guest actions to apply before the checkpoint')
    .action(publish)

  image.command('build')
    .description('build the guest image (Debian kernel + busybox + agent) and a base golden image on the plant\'s line; with --spec, apply its actions too (the plant must be stopped)')
    .requiredOption('--config <file>', "the plant's node config (its dataDir and driver)")
    .option('--spec <file>', 'hardware and actions (default: 128 MB linux, no actions)')
    .action(publish)
}

import { join } from 'node:path'
import type { Command } from 'commander'
import { packageRoot } from '../../paths.js'
import type { Output } from '../output.js'
import { DRIVERS } from '../drivers.js'

/** the implementation, loaded when `up` or `demo` runs: the whole federation */
const actions = async (): Promise<typeof import('../actions/local-actions.js')> => await import('../actions/local-actions.js')

export function registerLocalCommands (program: Command, out: Output): void {
  program.command('up')
    .description('run a local federation (one shop, N plants) in this process until interrupted; prints the shop\'s address')
    .option('--plants <n>', 'how many plants', '2')
    .option('--driver <kind>', `production line of the plants: ${DRIVERS.join(', ')} (default: qemu where installed, else sim)`)
    .option('--port <port>', 'TCP port of the shop on 127.0.0.1 (0: any free port)', '0')
    .option('--json', 'print only the JSON line, nothing for people')
    .action(async (options: { plants: string, driver?: string, port: string, json?: boolean }) => { await (await actions()).up(options, out) })

  program.command('demo')
    .description('create a VM in a local federation and explain the choice, then a second one cloned from the golden image the plant learned from the first, and destroy both; on a terminal, shows the plants\' steps (guest image, golden boot, checkpoint) with a progress bar')
    .option('--plants <n>', 'how many plants', '2')
    .option('--driver <kind>', `production line of the plants: ${DRIVERS.join(', ')} (default: qemu where installed, else sim)`)
    .option('--spec <file>', 'the VM spec', join(packageRoot, 'config', 'demo-spec.yaml'))
    .action(async (options: { plants: string, driver?: string, spec: string }) => { await (await actions()).demo(options, out) })
}

#!/usr/bin/env node
import '../dist/src/polyfill.js'
const { main } = await import('../dist/src/cli/main.js')
process.exitCode = await main(process.argv.slice(2))

/**
 * The import rules of vmplant's layers (docs/architecture.md, "Layers"), checked by
 * `npm run lint:layers` and in `npm test`. Bottom to top: interface and fs; net, store, hypervisor,
 * planner; actors; daemon; cli. sim/ runs the real actors on the interface's ports.
 * Type-only imports count: a layer that names another's types depends on it.
 * test/layers/layers.spec.ts shows that each rule fails on a deliberate violation.
 */
/** Everything we write, so a rule about "ours" never matches node_modules or node:*. */
const ours = '^(src|sim)/'

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'interface-imports-nothing-of-ours',
      comment: 'src/interface/ is the contract every layer stands on: it may import only itself and third-party packages.',
      severity: 'error',
      from: { path: '^src/interface/' },
      to: { path: ours, pathNot: '^src/interface/' }
    },
    {
      name: 'ports-not-to-actors-daemon-cli',
      comment: 'net, store, hypervisor and planner stand on the interface; they never import the layers above them (actors, daemon, cli) nor the simulator.',
      severity: 'error',
      from: { path: '^src/(net|store|hypervisor|planner)/' },
      to: { path: '^(src/(actors|daemon|cli)/|sim/)' }
    },
    {
      name: 'planner-only-interface',
      comment: 'The planner is pure code on the contract: of ours it imports only src/interface/ and itself.',
      severity: 'error',
      from: { path: '^src/planner/' },
      to: { path: ours, pathNot: '^src/(planner|interface)/' }
    },
    {
      name: 'planner-pure',
      comment: 'The planner does no I/O: of node it may use only node:crypto (hashing), of npm only zod and multiformats. Add a package here only if it is pure computation.',
      severity: 'error',
      from: { path: '^src/planner/' },
      to: {
        dependencyTypes: ['core', 'npm', 'npm-dev', 'npm-optional', 'npm-peer', 'npm-bundled', 'npm-no-pkg', 'npm-unknown'],
        pathNot: ['^(node:)?crypto$', '(^|/)node_modules/(zod|multiformats)/']
      }
    },
    {
      name: 'pricing-pure-on-interface-planner',
      comment: 'Pricing is pure code shared by every actor and the simulator (actors may import it): of ours it imports only src/interface/, src/planner/ and itself; of npm only zod; nothing of node (no I/O, no clock, randomness injected).',
      severity: 'error',
      from: { path: '^src/pricing/' },
      to: { pathNot: ['^src/(pricing|interface|planner)/', '(^|/)node_modules/zod/'] }
    },
    {
      name: 'actors-not-to-net-daemon-cli',
      comment: 'Actors reach the network only through the Transport port they are given; daemon and cli are above them.',
      severity: 'error',
      from: { path: '^src/actors/' },
      to: { path: '^src/(net|daemon|cli)/' }
    },
    {
      name: 'actors-store-types-only',
      comment: 'Actors use the store only through the PlantStore they are given: of src/store/ they may import types (`import type`), never values.',
      severity: 'error',
      from: { path: '^src/actors/' },
      to: { path: '^src/store/', dependencyTypesNot: ['type-only'] }
    },
    {
      name: 'actors-not-to-drivers',
      comment: 'Actors use a production line only through the port: of src/hypervisor/ they may import index.ts (the re-export of the port), never a driver (sim, qemu, uml), the guest agent or the driver factory.',
      severity: 'error',
      from: { path: '^src/actors/' },
      to: { path: '^src/hypervisor/', pathNot: '^src/hypervisor/index\\.ts$' }
    },
    {
      name: 'actors-not-reach-drivers',
      comment: 'Not even through another module (e.g. a port re-export that pulls a driver in): nothing an actor imports may lead to a driver implementation.',
      severity: 'error',
      from: { path: '^src/actors/' },
      to: { path: '^src/hypervisor/(sim|qemu|uml|guest)/', reachable: true }
    },
    {
      name: 'actor-not-to-another-actor',
      comment: 'An actor folder (src/actors/plant/, shop/, broker/, ...) imports no other actor folder: what two actors share lives below them (src/pricing/, src/interface/) or in src/actors/runtime/ and src/actors/errors.ts. The runtime imports no actor.',
      severity: 'error',
      from: { path: '^src/actors/([^/]+)/' },
      to: { path: '^src/actors/[^/]+/', pathNot: '^src/actors/($1|runtime)/' }
    },
    {
      name: 'hypervisor-not-to-store',
      comment: 'The production lines know nothing of the store: what a line needs of a golden image comes through the contract (src/interface/) or from its caller.',
      severity: 'error',
      from: { path: '^src/hypervisor/' },
      to: { path: '^src/store/' }
    },
    {
      name: 'store-not-to-hypervisor',
      comment: 'The store keeps records and images; it imports no production line, not even for a type: such a type belongs in src/interface/.',
      severity: 'error',
      from: { path: '^src/store/' },
      to: { path: '^src/hypervisor/' }
    },
    {
      name: 'net-not-to-store',
      comment: 'The network carries messages; it reads or writes no store: the actors (through their ports) or the daemon do.',
      severity: 'error',
      from: { path: '^src/net/' },
      to: { path: '^src/store/' }
    },
    {
      name: 'only-edges-build-actor-messages',
      comment: 'Only the edge table (src/edges/) turns what arrives into actor messages: outside src/actors/ nothing imports the message builders of src/actors/*/messages.ts as values (the message types, `import type`, are readable by the trace and the metrics).',
      severity: 'error',
      from: { path: ours, pathNot: '^src/(edges|actors)/' },
      to: { path: '^src/actors/[^/]+/messages\\.ts$', dependencyTypesNot: ['type-only'] }
    },
    {
      name: 'cli-not-to-actors',
      comment: 'The command line talks to a node through the client and the daemon; it imports nothing under src/actors/, not even a type: presentation and shared types live in src/interface/ or below.',
      severity: 'error',
      from: { path: '^src/cli/' },
      to: { path: '^src/actors/' }
    },
    {
      name: 'daemon-not-to-cli',
      comment: 'The daemon is the composition root below the command line.',
      severity: 'error',
      from: { path: '^src/daemon/' },
      to: { path: '^src/cli/' }
    },
    {
      name: 'cli-commands-load-lazily',
      comment: 'vmplant --help must stay within 3x a bare `node -e 0` (issue 12): main.ts and the command files register options only, and load an implementation (libp2p, zod, level, the daemon, the simulator) with `await import()` when its action runs. Type-only imports are fine.',
      severity: 'error',
      from: { path: '^src/cli/(main\\.ts$|commands/)' },
      to: {
        dependencyTypesNot: ['type-only', 'dynamic-import'],
        path: ['^(src/(net|daemon|planner|actors|hypervisor|store|interface)/|sim/)', '(^|/)node_modules/'],
        pathNot: '(^|/)node_modules/commander/'
      }
    },
    {
      name: 'sim-only-interface-actors-planner-sim-line',
      comment: 'The simulator runs the real actors with a virtual clock and an in-memory transport: it may import src/interface, src/actors, src/planner, src/pricing, src/images (the plants\' catalogues), the store (a warehouse on an in-memory level), the sim line (src/hypervisor/sim/, src/hypervisor/index.ts), the edge table (src/edges/) and the pure checks that turn requests into commands (src/net/commands.ts and the signatures it verifies), never the rest of net, daemon, cli or a real driver.',
      severity: 'error',
      from: { path: '^sim/' },
      to: {
        path: '^src/',
        pathNot: '^src/((interface|actors|planner|pricing|images|store|hypervisor/sim|edges)/|hypervisor/index\\.ts$|net/(commands|auth|domain-credential)\\.ts$)'
      }
    },
    // --- golden images (issue 18, item 4): src/images/ owns them (hypervisor, store and net keep apart: the rules above) ---
    {
      name: 'images-on-the-contract',
      comment: 'src/images/ is a layer beside the actors\' ports: of ours it imports only src/interface/, src/planner/ and src/pricing/, and reaches the store, the wire and the lines through the Warehouse, ImageNetwork and GoldenImporter ports it is given.',
      severity: 'error',
      from: { path: '^src/images/' },
      to: { path: ours, pathNot: '^src/(images|interface|planner|pricing)/' }
    },
    {
      name: 'images-used-from-above',
      comment: 'Golden images are used by the actors, the daemon, the cli and the simulator; the layers they stand on (interface, net, store, hypervisor, planner, pricing) never import them.',
      severity: 'error',
      from: { path: '^src/(interface|net|store|hypervisor|planner|pricing)/' },
      to: { path: '^src/images/' }
    },
    // --- end of golden images ---
    // --- the edge table (issue 18, item 1; only-edges-build-actor-messages is above) ---
    {
      name: 'edges-not-to-net-store-hypervisor',
      comment: 'The edge table stands between the contract and the actors: it imports no net, store or hypervisor internals, nor the daemon, cli or simulator that attach it.',
      severity: 'error',
      from: { path: '^src/edges/' },
      to: { path: '^(src/(net|store|hypervisor|daemon|cli)/|sim/)' }
    },
    // --- end of the edge table ---
    // --- durable files (issue 24, item 8): one helper every layer that writes files may use ---
    {
      name: 'fs-imports-nothing-of-ours',
      comment: 'src/fs/ (durable writes, guarded reads) sits at the bottom beside the interface, so net, store, hypervisor, daemon and cli may all import it: of ours it imports only itself.',
      severity: 'error',
      from: { path: '^src/fs/' },
      to: { path: ours, pathNot: '^src/fs/' }
    },
    {
      name: 'actors-not-to-fs',
      comment: 'Actors never touch files: what they keep goes through the PlantStore and the line they are given.',
      severity: 'error',
      from: { path: '^src/actors/' },
      to: { path: '^src/fs/' }
    },
    // --- end of durable files ---
    {
      name: 'no-circular',
      comment: 'A cycle makes its modules one layer in disguise: break it with a port in src/interface/ or by moving the shared part down.',
      severity: 'error',
      from: { path: ours },
      to: { circular: true }
    },
    {
      name: 'not-to-unresolvable',
      comment: 'An import that cannot be resolved escapes every rule above; tsc names the cause.',
      severity: 'error',
      from: { path: ours },
      to: { couldNotResolve: true }
    }
  ],
  options: {
    doNotFollow: { path: '(^|/)node_modules/' },
    // `import type` and type-only re-exports are dependencies too.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      mainFields: ['module', 'main', 'types', 'typings']
    },
    reporterOptions: {
      text: { highlightFocused: true }
    }
  }
}

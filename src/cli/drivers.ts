/** the production lines `up` and `demo` can run their plants on */
export const DRIVERS = ['qemu', 'uml', 'sim'] as const

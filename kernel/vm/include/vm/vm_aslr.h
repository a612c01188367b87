/*
 * The ASLR seed tree: where every aspace's placement generator gets its seed.
 *
 * One boot seed, printed at boot ("aslr: seed 0x... (source)"), roots the tree. It comes
 * from the command line (aslr.seed=N, decimal or 0x hex) or else from the CPU
 * (<arch/entropy.h>). Below it every seed is a pure function of its parent's seed and
 * an index (rand_derive in <lib/rand.h>):
 *   boot seed, k-th aspace the kernel makes itself   -> kernel seeds (the kernel aspace,
 *                                                       userboot, in-kernel tests)
 *   a process's seed, child's name, k-th such child  -> the child's seed (kernel/proc)
 * and an aspace's placement generator starts at its seed. rand_derive is one-way (a
 * keyed SipHash), so a seed says nothing about its parent's. Nothing timing- or
 * address-dependent enters, so one boot seed replays every placement of a program that
 * makes the same calls in the same order, and a program's seed does not depend on which
 * other programs userboot runs. Threads racing to create processes or to map perturb
 * only their own process and its children.
 */
#ifndef VM_VM_ASLR_H
#define VM_VM_ASLR_H

#include <stdint.h>

/* The command-line switch that fixes the boot seed. */
#define VM_ASLR_SEED_SWITCH "aslr.seed"

/*
 * Picks the boot seed (the switch, else arch_entropy_seed) and prints it with its
 * source. Runs once, after the command line and before the first aspace is created.
 * Panics if the switch's value is not a number: a run meant to be replayed must not
 * silently get a random seed.
 */
void vm_aslr_init(void);

/* The boot seed (valid after vm_aslr_init). */
uint64_t vm_aslr_boot_seed(void);

/* The seed of the next aspace the kernel creates on its own behalf rather than for a
 * process's request (index = how many such seeds were handed out before). */
uint64_t vm_aslr_kernel_seed(void);

#endif

// SPDX-License-Identifier: GPL-2.0-only
/*
 * GET racing SET on the same pages: one thread SETs NW and clears random
 * 64-page ranges of a VM with no memslots (each SET of an empty range
 * reserves its chunks before storing), others GET inside those ranges.
 * A GET that meets a reservation must read it as "no attributes" and move
 * on; it once spun forever on it under the xarray lock, stalling the host.
 * Every GET must return a run of 0 or NW inside the requested range.
 *
 * Two setters race each other too, on the same and on partly overlapping
 * ranges (one or two runs): with kvm_memattr, SETs on disjoint ranges run
 * concurrently and overlapping ones wait for each other.  Each setter
 * clears the range it set right after, so once both stop, nothing may be
 * left NW: a SET lost or half applied under the race would leave some.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <linux/kvm.h>

#include "kvm_util.h"
#include "test_util.h"
#include "memattr_util.h"

#define NW	KVM_MEMORY_ATTRIBUTE_NW
#define SZ_4K	4096ULL
#define BASE	(1ULL << 32)
#define WINDOW	4096		/* pages */
#define RUN	64

static struct kvm_vm *vm;
static volatile bool done;
static unsigned int seed;
static unsigned long sets, gets;

static void *setter(void *arg)
{
	unsigned int s = seed + 100 * (uintptr_t)arg;

	while (!done) {
		uint64_t first = rand_r(&s) % (WINDOW / RUN - 1) * RUN;
		uint64_t len = RUN * (1 + rand_r(&s) % 2);

		memattr_set(vm, BASE + first * SZ_4K, len * SZ_4K, NW);
		memattr_set(vm, BASE + first * SZ_4K, len * SZ_4K, 0);
		__atomic_fetch_add(&sets, 2, __ATOMIC_RELAXED);
	}
	return NULL;
}

static void *getter(void *arg)
{
	unsigned int s = seed + 1 + (uintptr_t)arg;
	unsigned long n = 0;

	while (!done) {
		uint64_t p = rand_r(&s) % WINDOW, len = 1 + rand_r(&s) % (WINDOW - p);
		struct kvm_memory_attributes a = {
			.address = BASE + p * SZ_4K, .size = len * SZ_4K,
		};

		vm_ioctl(vm, KVM_GET_MEMORY_ATTRIBUTES, &a);
		TEST_ASSERT((a.attributes == 0 || a.attributes == NW) && a.size &&
			    a.size <= len * SZ_4K && !(a.size & (SZ_4K - 1)),
			    "GET [%#llx, +%#llx): attributes %#llx size %#llx (seed %u)",
			    BASE + p * SZ_4K, len * SZ_4K, a.attributes, a.size, seed);
		n++;
	}
	__atomic_fetch_add(&gets, n, __ATOMIC_RELAXED);
	return NULL;
}

int main(int argc, char *argv[])
{
	int secs = argc > 1 ? atoi(argv[1]) : 5;
	struct kvm_memory_attributes a = { .address = BASE, .size = WINDOW * SZ_4K };
	pthread_t st[2], gt[2];
	int i;

	seed = argc > 2 ? strtoul(argv[2], NULL, 0) : time(NULL);
	printf("seed %u, %ds\n", seed, secs);
	TEST_REQUIRE(kvm_check_cap(KVM_CAP_MEMORY_ATTRIBUTES) & NW);
	vm = vm_create_barebones();

	for (i = 0; i < 2; i++) {
		pthread_create(&st[i], NULL, setter, (void *)(uintptr_t)i);
		pthread_create(&gt[i], NULL, getter, (void *)(uintptr_t)i);
	}
	sleep(secs);
	done = true;
	for (i = 0; i < 2; i++) {
		pthread_join(st[i], NULL);
		pthread_join(gt[i], NULL);
	}
	/* Every SET of NW was followed by its clear: nothing is left. */
	vm_ioctl(vm, KVM_GET_MEMORY_ATTRIBUTES, &a);
	TEST_ASSERT(a.attributes == 0 && a.size == WINDOW * SZ_4K,
		    "after the race: [%#llx, +%#llx) has %#llx (seed %u)",
		    a.address, a.size, a.attributes, seed);
	pr_info("GET/SET race %ds: %lu SETs by 2 setters, %lu GETs; all cleared at the end\n",
		secs, sets, gets);
	kvm_vm_free(vm);
	return 0;
}

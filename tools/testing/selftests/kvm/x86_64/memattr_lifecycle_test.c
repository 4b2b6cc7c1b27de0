// SPDX-License-Identifier: GPL-2.0-only
/*
 * kvm_memattr lifecycle helpers for the guest plan:
 *
 *   memattr_lifecycle_test hold SECONDS   create a VM with a 1 TiB map, print
 *                                         "holding", sleep, exit (the plan
 *                                         checks that rmmod is refused meanwhile)
 *   memattr_lifecycle_test leak           create and destroy VMs with large and
 *                                         fragmented maps; the xarray slab must
 *                                         come back to its baseline
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/kvm.h>

#include "kvm_util.h"
#include "test_util.h"
#include "memattr_util.h"

#define SZ_4K	4096ULL
#define NW	KVM_MEMORY_ATTRIBUTE_NW
#define NX	KVM_MEMORY_ATTRIBUTE_NX

static struct kvm_vm *big_vm(int fragmented_pages)
{
	struct kvm_vm *vm = vm_create_barebones_type(KVM_X86_DEFAULT_VM);
	uint64_t gpa;

	memattr_set(vm, SZ_4K, 1ULL << 40, NW | NX);
	for (gpa = 1ULL << 41; gpa < (1ULL << 41) + fragmented_pages * 2 * SZ_4K; gpa += 2 * SZ_4K)
		memattr_set(vm, gpa, SZ_4K, NW);
	return vm;
}

int main(int argc, char *argv[])
{
	TEST_REQUIRE(kvm_check_cap(KVM_CAP_MEMORY_ATTRIBUTES) & NW);
	TEST_ASSERT(argc >= 2, "usage: %s hold SECONDS | leak", argv[0]);

	if (!strcmp(argv[1], "hold")) {
		struct kvm_vm *vm = big_vm(64);

		printf("holding a VM with a 1 TiB map for %s s\n", argv[2] ? argv[2] : "1");
		fflush(stdout);
		sleep(argv[2] ? atoi(argv[2]) : 1);
		kvm_vm_free(vm);
		return 0;
	}
	if (!strcmp(argv[1], "leak")) {
		long long before, peak = 0, after;
		int i, rounds = 32, frag = 4096;

		/* Warm the slab up once so that its caches are populated. */
		kvm_vm_free(big_vm(frag));
		sleep(1);
		before = memattr_xa_node_bytes();
		for (i = 0; i < rounds; i++) {
			struct kvm_vm *vm = big_vm(frag);
			long long now = memattr_xa_node_bytes() - before;

			if (now > peak)
				peak = now;
			kvm_vm_free(vm);
		}
		sleep(2);	/* nodes are freed after an RCU grace period */
		after = memattr_xa_node_bytes();
		pr_info("%d VMs with 1 TiB + %d fragmented pages created and destroyed: "
			"xarray nodes %lld KiB before, +%lld KiB peak, %+lld KiB after\n",
			rounds, frag, before / 1024, peak / 1024, (after - before) / 1024);
		/* One VM's worth of nodes would be hundreds of KiB; allow slab slack. */
		TEST_ASSERT(after - before < 256 * 1024,
			    "xarray nodes grew by %lld KiB after destroying every VM", (after - before) / 1024);
		TEST_ASSERT(peak > 64 * 1024, "the maps never used memory (%lld KiB): test broken?",
			    peak / 1024);
		return 0;
	}
	TEST_FAIL("unknown mode %s", argv[1]);
	return 1;
}

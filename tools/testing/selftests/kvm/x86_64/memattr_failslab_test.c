// SPDX-License-Identifier: GPL-2.0-only
/*
 * Allocation failures injected into KVM_SET_MEMORY_ATTRIBUTES (failslab,
 * limited to this task): a SET either succeeds or fails with ENOMEM, and
 * after ENOMEM the GET walk is exactly what it was before (all-or-nothing).
 * Needs CONFIG_FAILSLAB and CONFIG_FAULT_INJECTION_DEBUG_FS (debug kernel).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/kvm.h>

#include "kvm_util.h"
#include "test_util.h"

#define SZ_4K	4096ULL
#define PAGES	2048
#define NW	KVM_MEMORY_ATTRIBUTE_NW
#define NX	KVM_MEMORY_ATTRIBUTE_NX
#define NR	KVM_MEMORY_ATTRIBUTE_NR

static void write_file(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY);

	TEST_ASSERT(fd >= 0, "open %s: %s", path, strerror(errno));
	TEST_ASSERT(write(fd, val, strlen(val)) == (ssize_t)strlen(val), "write %s", path);
	close(fd);
}

static void walk(struct kvm_vm *vm, uint64_t *out)
{
	struct kvm_memory_attributes a;
	uint64_t gpa, end = PAGES * SZ_4K;

	for (gpa = 0; gpa < end; gpa += a.size) {
		a = (struct kvm_memory_attributes){ .address = gpa, .size = end - gpa };
		vm_ioctl(vm, KVM_GET_MEMORY_ATTRIBUTES, &a);
		for (uint64_t p = gpa / SZ_4K; p < (gpa + a.size) / SZ_4K; p++)
			out[p] = a.attributes;
	}
}

int main(int argc, char *argv[])
{
	static uint64_t before[PAGES], after[PAGES], model[PAGES];
	static const uint64_t vals[] = { 0, NW, NX, NW | NX, NR | NW | NX };
	unsigned long injected = 0, applied = 0;
	unsigned int seed = 7;
	struct kvm_vm *vm;
	int i, times_fd;

	TEST_REQUIRE(kvm_check_cap(KVM_CAP_MEMORY_ATTRIBUTES) & NW);
	TEST_REQUIRE(!access("/sys/kernel/debug/failslab/times", W_OK));

	vm = vm_create_barebones_type(KVM_X86_DEFAULT_VM);
	write_file("/sys/kernel/debug/failslab/ignore-gfp-wait", "N");
	write_file("/sys/kernel/debug/failslab/task-filter", "Y");
	write_file("/sys/kernel/debug/failslab/probability", "100");
	write_file("/sys/kernel/debug/failslab/interval", "1");
	write_file("/sys/kernel/debug/failslab/verbose", "0");
	write_file("/sys/kernel/debug/failslab/times", "0");
	/*
	 * Opened once, before this task's allocations can fail: opening a file
	 * allocates, writing a number to it does not.
	 */
	times_fd = open("/sys/kernel/debug/failslab/times", O_WRONLY);
	TEST_ASSERT(times_fd >= 0, "open failslab/times");
	write_file("/proc/self/make-it-fail", "1");

	for (i = 0; i < 400; i++) {
		uint64_t start = rand_r(&seed) % PAGES;
		uint64_t len = 1 + rand_r(&seed) % (rand_r(&seed) % 2 ? 4 : PAGES - start);
		uint64_t val = vals[rand_r(&seed) % 5];
		struct kvm_memory_attributes a = { .address = start * SZ_4K, .attributes = val };
		char times[16];
		int r;

		if (start + len > PAGES)
			len = PAGES - start;
		a.size = len * SZ_4K;
		walk(vm, before);
		/* Fail the next 1..3 slab allocations of this task. */
		snprintf(times, sizeof(times), "%d", 1 + rand_r(&seed) % 3);
		TEST_ASSERT(write(times_fd, times, strlen(times)) > 0, "arm failslab");
		r = __vm_ioctl(vm, KVM_SET_MEMORY_ATTRIBUTES, &a);
		TEST_ASSERT(write(times_fd, "0", 1) == 1, "disarm failslab");
		if (r) {
			TEST_ASSERT(errno == ENOMEM, "SET under failslab: errno %d, expected ENOMEM", errno);
			walk(vm, after);
			TEST_ASSERT(!memcmp(before, after, sizeof(before)),
				    "a SET that failed with ENOMEM changed the map (iteration %d)", i);
			injected++;
		} else {
			for (uint64_t p = start; p < start + len; p++)
				model[p] = val;
			applied++;
		}
		walk(vm, after);
		TEST_ASSERT(!memcmp(after, model, sizeof(model)), "map differs from model (iteration %d)", i);
	}
	write_file("/proc/self/make-it-fail", "0");
	close(times_fd);
	write_file("/sys/kernel/debug/failslab/probability", "0");
	kvm_vm_free(vm);
	pr_info("failslab: %lu SETs failed with ENOMEM and changed nothing, %lu applied\n",
		injected, applied);
	TEST_ASSERT(injected > 0, "no failure was ever injected: failslab not reaching the store?");
	return 0;
}

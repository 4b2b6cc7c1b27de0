// SPDX-License-Identifier: GPL-2.0-only
/*
 * KVM_SET_MEMORY_ATTRIBUTES / KVM_GET_MEMORY_ATTRIBUTES uAPI: capabilities,
 * every validation rule, GET runs, boundary splits, a 1 TiB range, and random
 * SETs checked page by page against a dense model.  Runs unchanged against
 * upstream's C store and kvm_memattr; "-b <backend>" asserts which one serves
 * the VMs (from the per-VM debugfs file).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/kvm.h>

#include "kvm_util.h"
#include "processor.h"
#include "test_util.h"
#include "memattr_util.h"

#define PRIV	KVM_MEMORY_ATTRIBUTE_PRIVATE
#define NR	KVM_MEMORY_ATTRIBUTE_NR
#define NW	KVM_MEMORY_ATTRIBUTE_NW
#define NX	KVM_MEMORY_ATTRIBUTE_NX
#define RWX	(NR | NW | NX)
#define SZ_1T	(1ULL << 40)
#define SZ_4K	4096ULL

static const char *want_backend;
static bool rust_backend;

static int __set(struct kvm_vm *vm, uint64_t gpa, uint64_t size, uint64_t attrs,
		 uint64_t flags)
{
	struct kvm_memory_attributes a = {
		.address = gpa, .size = size, .attributes = attrs, .flags = flags,
	};

	return __vm_ioctl(vm, KVM_SET_MEMORY_ATTRIBUTES, &a);
}

static int __get(struct kvm_vm *vm, struct kvm_memory_attributes *a)
{
	return __vm_ioctl(vm, KVM_GET_MEMORY_ATTRIBUTES, a);
}

/* GET at gpa over size: returns the attributes, stores the run length. */
static uint64_t get(struct kvm_vm *vm, uint64_t gpa, uint64_t size, uint64_t *run)
{
	struct kvm_memory_attributes a = { .address = gpa, .size = size };
	int r = __get(vm, &a);

	TEST_ASSERT(!r, "GET [%#lx, +%#lx): expected success, got %d errno %d",
		    gpa, size, r, errno);
	TEST_ASSERT(a.address == gpa && a.flags == 0,
		    "GET changed address/flags: %#llx/%#llx", a.address, a.flags);
	TEST_ASSERT(a.size && a.size <= size && !(a.size % SZ_4K),
		    "GET run %#llx not in (0, %#lx]", a.size, size);
	*run = a.size;
	return a.attributes;
}

static void expect_einval_set(struct kvm_vm *vm, uint64_t gpa, uint64_t size,
			      uint64_t attrs, uint64_t flags, const char *what)
{
	int r = __set(vm, gpa, size, attrs, flags);

	TEST_ASSERT(r == -1 && errno == EINVAL,
		    "SET %s: expected EINVAL, got %d errno %d", what, r, errno);
}

static void expect_einval_get(struct kvm_vm *vm, uint64_t gpa, uint64_t size,
			      uint64_t flags, const char *what)
{
	struct kvm_memory_attributes a = { .address = gpa, .size = size, .flags = flags };
	int r = __get(vm, &a);

	TEST_ASSERT(r == -1 && errno == EINVAL,
		    "GET %s: expected EINVAL, got %d errno %d", what, r, errno);
}

static struct kvm_vm *create_vm(unsigned long type)
{
	struct kvm_vm *vm = vm_create_barebones_type(type);
	char buf[64];
	const char *b = memattr_backend(vm, buf, sizeof(buf));

	if (want_backend)
		TEST_ASSERT(b && !strcmp(b, want_backend),
			    "VM served by '%s', expected '%s'", b ? b : "(no debugfs)",
			    want_backend);
	return vm;
}

/* kvm_memattr enforces NR/NW/NX; upstream knows only PRIVATE. */
static uint64_t expected_caps(unsigned long type)
{
	uint64_t rwx = rust_backend ? RWX : 0;

	return type == KVM_X86_SW_PROTECTED_VM ? rwx | PRIV : rwx;
}

static void test_caps(void)
{
	struct kvm_vm *vm;

	TEST_ASSERT_EQ(kvm_check_cap(KVM_CAP_MEMORY_ATTRIBUTES),
		       expected_caps(KVM_X86_SW_PROTECTED_VM));

	vm = create_vm(KVM_X86_DEFAULT_VM);
	TEST_ASSERT_EQ(vm_check_cap(vm, KVM_CAP_MEMORY_ATTRIBUTES),
		       expected_caps(KVM_X86_DEFAULT_VM));
	expect_einval_set(vm, 0, SZ_4K, PRIV, 0, "PRIVATE on a default VM");
	if (rust_backend) {
		memattr_set(vm, 0, SZ_4K, NW);
		memattr_set(vm, 0, SZ_4K, 0);
	}
	kvm_vm_free(vm);

	vm = create_vm(KVM_X86_SW_PROTECTED_VM);
	TEST_ASSERT_EQ(vm_check_cap(vm, KVM_CAP_MEMORY_ATTRIBUTES),
		       expected_caps(KVM_X86_SW_PROTECTED_VM));
	kvm_vm_free(vm);
	pr_info("caps: ok\n");
}

static void test_validation(struct kvm_vm *vm)
{
	uint64_t run;
	int i, r;

	expect_einval_set(vm, 0, SZ_4K, PRIV, 1, "flags=1");
	expect_einval_set(vm, 0, SZ_4K, PRIV, 1ULL << 63, "flags bit 63");
	for (i = 0; i < 64; i++) {
		if ((1ULL << i) & expected_caps(KVM_X86_SW_PROTECTED_VM))
			continue;
		expect_einval_set(vm, 0, SZ_4K, 1ULL << i, 0, "unsupported bit");
	}
	if (rust_backend) {
		expect_einval_set(vm, 0, SZ_4K, PRIV | NW, 0, "PRIVATE|NW");
		expect_einval_set(vm, 0, SZ_4K, PRIV | RWX, 0, "PRIVATE|NR|NW|NX");
		expect_einval_set(vm, 0, SZ_4K, NR, 0, "NR without NW");
		expect_einval_set(vm, 0, SZ_4K, NR | NX, 0, "NR without NW");
		/* Only EPT with execute-only can map NR without NX. */
		if (!memattr_mmu_exec_only())
			expect_einval_set(vm, 0, SZ_4K, NR | NW, 0, "NR without NX");
	}
	expect_einval_set(vm, 0, 0, PRIV, 0, "size 0");
	expect_einval_set(vm, 0x1000, -0x1000ULL, PRIV, 0, "wrap to 0");
	expect_einval_set(vm, -0x2000ULL, 0x3000, PRIV, 0, "wrap");
	expect_einval_set(vm, 0x800, SZ_4K, PRIV, 0, "unaligned address");
	expect_einval_set(vm, 0, 0x1800, PRIV, 0, "unaligned size");
	expect_einval_set(vm, 0x1, 0x1, 0, 0, "unaligned clear");

	expect_einval_get(vm, 0, SZ_4K, 1, "flags=1");
	expect_einval_get(vm, 0, 0, 0, "size 0");
	expect_einval_get(vm, -0x2000ULL, 0x3000, 0, "wrap");
	expect_einval_get(vm, 0x10, SZ_4K, 0, "unaligned address");
	expect_einval_get(vm, 0, 0x10, 0, "unaligned size");

	/* Nothing above may have changed anything. */
	TEST_ASSERT_EQ(get(vm, 0, SZ_1T, &run), 0);
	TEST_ASSERT_EQ(run, SZ_1T);

	/* Bad pointers. */
	r = __vm_ioctl(vm, KVM_SET_MEMORY_ATTRIBUTES, (struct kvm_memory_attributes *)8);
	TEST_ASSERT(r == -1 && errno == EFAULT, "SET bad pointer: %d errno %d", r, errno);
	r = __vm_ioctl(vm, KVM_GET_MEMORY_ATTRIBUTES, (struct kvm_memory_attributes *)8);
	TEST_ASSERT(r == -1 && errno == EFAULT, "GET bad pointer: %d errno %d", r, errno);
	pr_info("validation: ok\n");
}

static void test_get_runs(struct kvm_vm *vm)
{
	uint64_t run;

	/* [16K, 48K) private, [24K, 28K) punched out again. */
	memattr_set(vm, 0x4000, 0x8000, PRIV);
	memattr_set(vm, 0x6000, 0x1000, 0);
	TEST_ASSERT_EQ(get(vm, 0, 0x100000, &run), 0);
	TEST_ASSERT_EQ(run, 0x4000);
	TEST_ASSERT_EQ(get(vm, 0x4000, 0x100000, &run), PRIV);
	TEST_ASSERT_EQ(run, 0x2000);
	TEST_ASSERT_EQ(get(vm, 0x6000, 0x100000, &run), 0);
	TEST_ASSERT_EQ(run, 0x1000);
	TEST_ASSERT_EQ(get(vm, 0x7000, 0x100000, &run), PRIV);
	TEST_ASSERT_EQ(run, 0x5000);
	TEST_ASSERT_EQ(get(vm, 0xc000, 0x100000, &run), 0);
	TEST_ASSERT_EQ(run, 0x100000);	/* clipped to the size asked for */
	/* Clipped to the requested size; GET starting mid-run. */
	TEST_ASSERT_EQ(get(vm, 0x8000, 0x1000, &run), PRIV);
	TEST_ASSERT_EQ(run, 0x1000);
	/* Filling the hole merges the run. */
	memattr_set(vm, 0x6000, 0x1000, PRIV);
	TEST_ASSERT_EQ(get(vm, 0x4000, 0x100000, &run), PRIV);
	TEST_ASSERT_EQ(run, 0x8000);
	/* Setting what is already there succeeds and changes nothing. */
	memattr_set(vm, 0x5000, 0x2000, PRIV);
	TEST_ASSERT_EQ(get(vm, 0x4000, 0x100000, &run), PRIV);
	TEST_ASSERT_EQ(run, 0x8000);
	memattr_set(vm, 0, 0x100000, 0);
	TEST_ASSERT_EQ(get(vm, 0, 0x100000, &run), 0);
	TEST_ASSERT_EQ(run, 0x100000);
	pr_info("GET runs and boundary splits: ok\n");
}

static void test_terabyte(struct kvm_vm *vm)
{
	uint64_t run, start = 0x3000, gpa, runs = 0;

	memattr_set(vm, start, SZ_1T, PRIV);
	TEST_ASSERT_EQ(get(vm, 0, 2 * SZ_1T, &run), 0);
	TEST_ASSERT_EQ(run, start);
	TEST_ASSERT_EQ(get(vm, start, 2 * SZ_1T, &run), PRIV);
	TEST_ASSERT_EQ(run, SZ_1T);
	TEST_ASSERT_EQ(get(vm, start + SZ_1T, 2 * SZ_1T, &run), 0);
	/* Punch every 64 GiB, then walk the whole map run by run. */
	for (gpa = start + (64ULL << 30); gpa < start + SZ_1T; gpa += 64ULL << 30)
		memattr_set(vm, gpa, SZ_4K, 0);
	for (gpa = 0; gpa < 2 * SZ_1T; gpa += run, runs++)
		get(vm, gpa, 2 * SZ_1T - gpa, &run);
	TEST_ASSERT_EQ(runs, 1 + 2 * 15 + 1 + 1);
	if (rust_backend) {
		uint64_t entries = memattr_stat(vm, "entries");
		uint64_t bytes = memattr_stat(vm, "metadata_bytes");

		pr_info("1 TiB with 15 holes: %lu entries, %lu bytes of metadata\n",
			entries, bytes);
		TEST_ASSERT(entries <= 16 * 2 * 40, "%lu entries", entries);
		TEST_ASSERT(bytes <= 64 * 1024, "%lu bytes", bytes);
	}
	/* Clearing the whole gfn space at once. */
	memattr_set(vm, 0, -SZ_4K, 0);
	TEST_ASSERT_EQ(get(vm, 0, -SZ_4K, &run), 0);
	TEST_ASSERT_EQ(run, -SZ_4K);
	if (rust_backend)
		TEST_ASSERT_EQ(memattr_stat(vm, "entries"), 0);
	pr_info("1 TiB range: ok\n");
}

#define MODEL_PAGES 1024

static void test_random_vs_model(struct kvm_vm *vm, unsigned int seed, int nr_ops)
{
	static uint64_t model[MODEL_PAGES];
	uint64_t run, attrs;
	int i, p;

	srandom(seed);
	memset(model, 0, sizeof(model));
	memattr_set(vm, 0, MODEL_PAGES * SZ_4K, 0);
	for (i = 0; i < nr_ops; i++) {
		uint64_t start = random() % MODEL_PAGES;
		uint64_t len = 1 + random() % (random() % 2 ? 8 : MODEL_PAGES - start);
		static const uint64_t rust_vals[] = { 0, PRIV, NW, NX, NW | NX, RWX };
		uint64_t val = rust_backend ? rust_vals[random() % 6] :
				random() % 2 ? PRIV : 0;

		if (start + len > MODEL_PAGES)
			len = MODEL_PAGES - start;
		memattr_set(vm, start * SZ_4K, len * SZ_4K, val);
		for (p = start; p < start + len; p++)
			model[p] = val;
	}
	/* Page by page... */
	for (p = 0; p < MODEL_PAGES; p++) {
		attrs = get(vm, p * SZ_4K, SZ_4K, &run);
		TEST_ASSERT(attrs == model[p], "seed %u page %d: GET %#lx, model %#lx",
			    seed, p, attrs, model[p]);
	}
	/* ...and run by run: every run exact and maximal. */
	for (p = 0; p < MODEL_PAGES; p += run / SZ_4K) {
		attrs = get(vm, p * SZ_4K, (MODEL_PAGES - p) * SZ_4K, &run);
		for (i = p; i < p + run / SZ_4K; i++)
			TEST_ASSERT(model[i] == attrs, "seed %u: run at %d wrong at %d", seed, p, i);
		TEST_ASSERT(p + run / SZ_4K == MODEL_PAGES || model[p + run / SZ_4K] != attrs,
			    "seed %u: run at page %d not maximal", seed, p);
	}
}

int main(int argc, char *argv[])
{
	struct kvm_vm *vm;
	int opt, seed;

	while ((opt = getopt(argc, argv, "b:")) != -1) {
		if (opt == 'b')
			want_backend = optarg;
	}
	TEST_REQUIRE(kvm_has_cap(KVM_CAP_MEMORY_ATTRIBUTES));
	TEST_REQUIRE(kvm_check_cap(KVM_CAP_VM_TYPES) & BIT(KVM_X86_SW_PROTECTED_VM));
	if (!want_backend) {
		char buf[64];

		vm = vm_create_barebones_type(KVM_X86_SW_PROTECTED_VM);
		want_backend = strdup(memattr_backend(vm, buf, sizeof(buf)) ?: "upstream");
		kvm_vm_free(vm);
	}
	rust_backend = !strcmp(want_backend, "kvm_memattr");

	test_caps();

	vm = create_vm(KVM_X86_SW_PROTECTED_VM);
	test_validation(vm);
	test_get_runs(vm);
	for (seed = 1; seed <= 8; seed++)
		test_random_vs_model(vm, seed, 100);
	pr_info("random SETs vs dense model (8 seeds): ok\n");
	/* Upstream's per-page store would need hours for 1 TiB under TCG. */
	if (rust_backend)
		test_terabyte(vm);
	kvm_vm_free(vm);
	return 0;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite for kvm_memattr's range store.  The tests are written in Rust
 * (selftest.rs); this file only registers them with KUnit, which runs the
 * suite when the module loads.
 */
#include <kunit/test.h>

int kvm_memattr_kunit_model(u64 seed, u32 nr_ops, bool inject, bool chunks);
int kvm_memattr_kunit_terabyte(void);
int kvm_memattr_kunit_by_ends(u64 seed, u32 nr);
int kvm_memattr_kunit_kept_path(void);
int kvm_memattr_kunit_bench(void);
bool kvm_memattr_kunit_encodings(void);

static void memattr_store_vs_dense_model(struct kunit *test)
{
	u64 seed;

	for (seed = 1; seed <= 6; seed++)
		KUNIT_EXPECT_EQ_MSG(test, kvm_memattr_kunit_model(seed, 200, false, false), 0,
				    "seed %llu, see the kernel log", seed);
}

static void memattr_store_injected_enomem(struct kunit *test)
{
	u64 seed;

	for (seed = 101; seed <= 106; seed++)
		KUNIT_EXPECT_EQ_MSG(test, kvm_memattr_kunit_model(seed, 200, true, false), 0,
				    "seed %llu, see the kernel log", seed);
}

/* Small aligned chunks, most SETs done in place by try_set(). */
static void memattr_store_chunks_in_place(struct kunit *test)
{
	u64 seed;

	for (seed = 201; seed <= 206; seed++)
		KUNIT_EXPECT_EQ_MSG(test, kvm_memattr_kunit_model(seed, 300, seed > 204, true), 0,
				    "seed %llu, see the kernel log", seed);
}

static void memattr_store_terabyte(struct kunit *test)
{
	KUNIT_EXPECT_EQ_MSG(test, kvm_memattr_kunit_terabyte(), 0, "see the kernel log");
}

static void memattr_store_reserved_by_ends(struct kunit *test)
{
	u64 seed;

	for (seed = 1; seed <= 4; seed++)
		KUNIT_EXPECT_EQ_MSG(test, kvm_memattr_kunit_by_ends(seed, 500), 0,
				    "seed %llu, see the kernel log", seed);
}

static void memattr_store_kept_path(struct kunit *test)
{
	KUNIT_EXPECT_EQ_MSG(test, kvm_memattr_kunit_kept_path(), 0, "see the kernel log");
}

static void memattr_xarray_encodings(struct kunit *test)
{
	KUNIT_EXPECT_TRUE(test, kvm_memattr_kunit_encodings());
}

static struct kunit_case memattr_store_cases[] = {
	KUNIT_CASE(memattr_xarray_encodings),
	KUNIT_CASE_SLOW(memattr_store_vs_dense_model),
	KUNIT_CASE_SLOW(memattr_store_injected_enomem),
	KUNIT_CASE_SLOW(memattr_store_chunks_in_place),
	KUNIT_CASE(memattr_store_terabyte),
	KUNIT_CASE(memattr_store_reserved_by_ends),
	KUNIT_CASE(memattr_store_kept_path),
	{}
};

static struct kunit_suite memattr_store_suite = {
	.name = "kvm_memattr_store",
	.test_cases = memattr_store_cases,
};

/* Prints BENCH lines only; selected with kunit.filter_glob=kvm_memattr_bench. */
static void memattr_bench_lookup_and_mixed(struct kunit *test)
{
	KUNIT_EXPECT_EQ_MSG(test, kvm_memattr_kunit_bench(), 0, "see the kernel log");
}

static struct kunit_case memattr_bench_cases[] = {
	KUNIT_CASE_SLOW(memattr_bench_lookup_and_mixed),
	{}
};

static struct kunit_suite memattr_bench_suite = {
	.name = "kvm_memattr_bench",
	.test_cases = memattr_bench_cases,
};
kunit_test_suites(&memattr_store_suite, &memattr_bench_suite);

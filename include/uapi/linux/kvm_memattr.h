/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * kvm-memattr: memory attribute additions to the KVM uAPI.
 *
 * Included by <linux/kvm.h> (see patches/0001) right after the upstream
 * KVM_SET_MEMORY_ATTRIBUTES definitions; also usable on its own by VMMs built
 * against older headers. Documentation: Documentation/virt/kvm/memory-attributes.rst
 */
#ifndef _UAPI_LINUX_KVM_MEMATTR_H
#define _UAPI_LINUX_KVM_MEMATTR_H

#include <linux/ioctl.h>
#include <linux/types.h>

#ifndef KVMIO
#define KVMIO 0xAE
#endif

#ifndef KVM_SET_MEMORY_ATTRIBUTES
#define KVM_SET_MEMORY_ATTRIBUTES	_IOW(KVMIO,  0xd2, struct kvm_memory_attributes)

struct kvm_memory_attributes {
	__u64 address;
	__u64 size;
	__u64 attributes;
	__u64 flags;
};

#define KVM_MEMORY_ATTRIBUTE_PRIVATE	(1ULL << 3)
#endif

#ifndef KVM_MEMORY_EXIT_FLAG_PRIVATE
#define KVM_MEMORY_EXIT_FLAG_PRIVATE	(1ULL << 3)
#endif

/* Deny bits: 0 (no entry) always means "shared, full access". */
#define KVM_MEMORY_ATTRIBUTE_NR		(1ULL << 0)	/* no read (and so no access) */
#define KVM_MEMORY_ATTRIBUTE_NW		(1ULL << 1)	/* no write */
#define KVM_MEMORY_ATTRIBUTE_NX		(1ULL << 2)	/* no execute */

/* The access that was denied, in kvm_run->memory_fault.flags. */
#define KVM_MEMORY_EXIT_FLAG_READ	(1ULL << 0)
#define KVM_MEMORY_EXIT_FLAG_WRITE	(1ULL << 1)
#define KVM_MEMORY_EXIT_FLAG_EXEC	(1ULL << 2)

/*
 * In: address, size (4 KiB aligned, non-zero, no wrap), flags == 0.
 * Out: attributes of the page at address; size = length of the longest run
 * starting at address whose pages all carry those attributes, clipped to the
 * requested size.
 */
#define KVM_GET_MEMORY_ATTRIBUTES	_IOWR(KVMIO, 0xd3, struct kvm_memory_attributes)

#endif /* _UAPI_LINUX_KVM_MEMATTR_H */

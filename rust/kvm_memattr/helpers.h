/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The one-line C helpers of helpers.c, which the Rust side (xa.rs) calls for
 * xarray and RCU inlines and macros that bindgen cannot see.
 */
#ifndef KVM_MEMATTR_HELPERS_H
#define KVM_MEMATTR_HELPERS_H

#include <linux/types.h>

struct xa_state;
struct xarray;
struct xa_node;

void memattr_xas_init(struct xa_state *xas, struct xarray *xa,
		      unsigned long index, unsigned int order);
void memattr_xa_init(struct xarray *xa);
void memattr_xa_lock(struct xarray *xa);
void memattr_xa_unlock(struct xarray *xa);
void *memattr_xa_head(struct xarray *xa);
void memattr_rcu_read_lock(void);
void memattr_rcu_read_unlock(void);
void *memattr_xa_mk_value(unsigned long v);
unsigned long memattr_xa_to_value(const void *entry);
bool memattr_xa_is_value(const void *entry);
bool memattr_xa_is_node(const void *entry);
struct xa_node *memattr_xa_to_node(const void *entry);
void *memattr_xa_zero_entry(void);
bool memattr_xas_retry(struct xa_state *xas, const void *entry);
int memattr_xas_error(const struct xa_state *xas);
void memattr_warn(void);
void memattr_cond_resched(void);

#endif /* KVM_MEMATTR_HELPERS_H */

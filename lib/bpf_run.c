// SPDX-License-Identifier: MIT
/*
 * bpf_run.c - a classic BPF interpreter with Linux's packet metadata (see
 * bpf_run.h). The semantics are those of the kernel's and libpcap's
 * interpreters: A, X and the scratch memory start at 0, a load outside the
 * packet ends the program with 0, division by zero ends it with 0, shifts
 * by 32 or more give 0.
 */
#include <linux/filter.h>

#include "bpf_run.h"

#define AD(off) ((uint32_t)SKF_AD_OFF + (off))

static bool ad_known(uint32_t k)
{
	switch (k) {
	case AD(SKF_AD_PROTOCOL):
	case AD(SKF_AD_PKTTYPE):
	case AD(SKF_AD_IFINDEX):
	case AD(SKF_AD_HATYPE):
	case AD(SKF_AD_VLAN_TAG):
	case AD(SKF_AD_VLAN_TAG_PRESENT):
	case AD(SKF_AD_VLAN_TPID):
		return true;
	}
	return false;
}

static uint32_t ad_load(uint32_t k, const struct bpf_run_aux *aux)
{
	switch (k) {
	case AD(SKF_AD_PROTOCOL):
		return aux->protocol;
	case AD(SKF_AD_PKTTYPE):
		return aux->pkttype;
	case AD(SKF_AD_IFINDEX):
		return aux->ifindex;
	case AD(SKF_AD_HATYPE):
		return aux->hatype;
	case AD(SKF_AD_VLAN_TAG):
		return aux->vlan ? aux->vlan_tci : 0;
	case AD(SKF_AD_VLAN_TAG_PRESENT):
		return aux->vlan;
	case AD(SKF_AD_VLAN_TPID):
		return aux->vlan ? aux->vlan_tpid : 0;
	}
	return 0;
}

bool bpf_run_supported(const struct bpf_insn *insns, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		const struct bpf_insn *p = &insns[i];
		unsigned cls = BPF_CLASS(p->code), mode = BPF_MODE(p->code);

		if (cls == BPF_LD && (mode == BPF_ABS || mode == BPF_IND) &&
		    p->k >= (uint32_t)SKF_AD_OFF && !(mode == BPF_ABS && ad_known(p->k)))
			return false;
		/* Negative offsets (SKF_NET_OFF, SKF_LL_OFF) are the kernel's alone. */
		if (cls == BPF_LD && mode == BPF_ABS && p->k >= 0x80000000u &&
		    p->k < (uint32_t)SKF_AD_OFF)
			return false;
	}
	return true;
}

static inline uint32_t view_len(const struct bpf_run_view *v)
{
	return v->gap_at < v->len ? v->len - v->gap_len : v->len;
}

static inline uint8_t view_byte(const struct bpf_run_view *v, uint32_t off)
{
	return v->data[off < v->gap_at ? off : off + v->gap_len];
}

static inline uint32_t be(const uint8_t *p, uint32_t size)
{
	switch (size) {
	case 4:
		return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
	case 2:
		return (uint32_t)p[0] << 8 | p[1];
	default:
		return p[0];
	}
}

/* Load size bytes big-endian at off; false if they are not all inside the packet. */
static inline bool view_load(const struct bpf_run_view *v, uint32_t off, uint32_t size,
			     uint32_t *out)
{
	uint32_t len = view_len(v), val = 0;

	if (off > len || size > len - off)
		return false;
	/* Only a load across the gap needs the bytes one by one. */
	if (off + size <= v->gap_at) {
		*out = be(v->data + off, size);
		return true;
	}
	if (off >= v->gap_at) {
		*out = be(v->data + off + v->gap_len, size);
		return true;
	}
	for (uint32_t i = 0; i < size; i++)
		val = val << 8 | view_byte(v, off + i);
	*out = val;
	return true;
}

static uint32_t load_size(unsigned code)
{
	switch (BPF_SIZE(code)) {
	case BPF_W:
		return 4;
	case BPF_H:
		return 2;
	default:
		return 1;
	}
}

/* A = A op operand; false when the program must end (division by zero, unknown op). */
static bool alu(unsigned op, uint32_t *a, uint32_t b)
{
	switch (op) {
	case BPF_ADD:
		*a += b;
		break;
	case BPF_SUB:
		*a -= b;
		break;
	case BPF_MUL:
		*a *= b;
		break;
	case BPF_DIV:
		if (!b)
			return false;
		*a /= b;
		break;
	case BPF_MOD:
		if (!b)
			return false;
		*a %= b;
		break;
	case BPF_AND:
		*a &= b;
		break;
	case BPF_OR:
		*a |= b;
		break;
	case BPF_XOR:
		*a ^= b;
		break;
	case BPF_LSH:
		*a = b < 32 ? *a << b : 0;
		break;
	case BPF_RSH:
		*a = b < 32 ? *a >> b : 0;
		break;
	case BPF_NEG:
		*a = -*a;
		break;
	default:
		return false;
	}
	return true;
}

static bool jump(unsigned op, uint32_t a, uint32_t b)
{
	switch (op) {
	case BPF_JEQ:
		return a == b;
	case BPF_JGT:
		return a > b;
	case BPF_JGE:
		return a >= b;
	case BPF_JSET:
		return (a & b) != 0;
	}
	return false;
}

uint32_t bpf_run(const struct bpf_insn *pc, const struct bpf_run_view *v, uint32_t wirelen,
		 const struct bpf_run_aux *aux)
{
	uint32_t a = 0, x = 0, mem[BPF_MEMWORDS] = {0}, off;

	for (;; pc++) {
		unsigned code = pc->code;

		/* The instructions libpcap emits most, tested first. */
		if (code == (BPF_JMP | BPF_JEQ | BPF_K)) {
			pc += a == pc->k ? pc->jt : pc->jf;
			continue;
		}
		if (BPF_CLASS(code) == BPF_LD && BPF_MODE(code) == BPF_ABS &&
		    pc->k < (uint32_t)SKF_AD_OFF) {
			if (!view_load(v, pc->k, load_size(code), &a))
				return 0;
			continue;
		}
		switch (BPF_CLASS(code)) {
		case BPF_RET:
			return BPF_RVAL(code) == BPF_A ? a : pc->k;
		case BPF_LD:
			switch (BPF_MODE(code)) {
			case BPF_ABS:
				if (pc->k >= (uint32_t)SKF_AD_OFF) {
					a = ad_load(pc->k, aux);
					break;
				}
				if (!view_load(v, pc->k, load_size(code), &a))
					return 0;
				break;
			case BPF_IND:
				off = x + pc->k;
				if (off < x || !view_load(v, off, load_size(code), &a))
					return 0;
				break;
			case BPF_LEN:
				a = wirelen;
				break;
			case BPF_IMM:
				a = pc->k;
				break;
			case BPF_MEM:
				a = pc->k < BPF_MEMWORDS ? mem[pc->k] : 0;
				break;
			default:
				return 0;
			}
			break;
		case BPF_LDX:
			switch (BPF_MODE(code)) {
			case BPF_IMM:
				x = pc->k;
				break;
			case BPF_MEM:
				x = pc->k < BPF_MEMWORDS ? mem[pc->k] : 0;
				break;
			case BPF_LEN:
				x = wirelen;
				break;
			case BPF_MSH:
				if (!view_load(v, pc->k, 1, &x))
					return 0;
				x = (x & 0xf) << 2;
				break;
			default:
				return 0;
			}
			break;
		case BPF_ST:
			if (pc->k < BPF_MEMWORDS)
				mem[pc->k] = a;
			break;
		case BPF_STX:
			if (pc->k < BPF_MEMWORDS)
				mem[pc->k] = x;
			break;
		case BPF_ALU:
			if (!alu(BPF_OP(code), &a, BPF_SRC(code) == BPF_X ? x : pc->k))
				return 0;
			break;
		case BPF_JMP:
			if (BPF_OP(code) == BPF_JA)
				pc += pc->k;
			else
				pc += jump(BPF_OP(code), a, BPF_SRC(code) == BPF_X ? x : pc->k)
					      ? pc->jt
					      : pc->jf;
			break;
		case BPF_MISC:
			if (BPF_MISCOP(code) == BPF_TAX)
				x = a;
			else
				a = x;
			break;
		}
	}
}

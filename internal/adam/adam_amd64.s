//go:build amd64 && !purego

#include "textflag.h"

// The AVX-512 Adam update (see adam.go): 16 float32 per step, then one
// masked step for the last n mod 16 elements.

// TAILMASK sets K1 to the low CX bits (CX in 1..15), using R13.
#define TAILMASK \
	MOVQ  $1, R13;  \
	SHLQ  CX, R13;  \
	DECQ  R13;      \
	KMOVW R13, K1

// ADAMSTEP updates 16 lanes at SI (w), DX (g), R8 (m), R9 (v) under mask
// K1 (all ones in the main loop); see adamGo for the formula and order.
#define ADAMSTEP \
	VMOVUPS.Z (DX), K1, Z0;  \
	VMOVUPS.Z (R8), K1, Z1;  \
	VMULPS    Z1, Z10, Z1;   \
	VMULPS    Z0, Z11, Z2;   \
	VADDPS    Z2, Z1, Z1;    \
	VMOVUPS   Z1, K1, (R8);  \
	VMULPS    Z0, Z13, Z3;   \
	VMULPS    Z0, Z3, Z3;    \
	VMOVUPS.Z (R9), K1, Z4;  \
	VMULPS    Z4, Z12, Z4;   \
	VADDPS    Z3, Z4, Z4;    \
	VMOVUPS   Z4, K1, (R9);  \
	VSQRTPS   Z4, Z5;        \
	VADDPS    Z15, Z5, Z5;   \
	VMULPS    Z1, Z14, Z6;   \
	VDIVPS    Z5, Z6, Z6;    \
	VMOVUPS.Z (SI), K1, Z7;  \
	VSUBPS    Z6, Z7, Z7;    \
	VMOVUPS   Z7, K1, (SI)

// func adam512(w, grad, mom, vel *float32, n int, b1, c1, b2, c2, lr, eps float32)
TEXT ·adam512(SB), NOSPLIT, $0-64
	MOVQ         w+0(FP), SI
	MOVQ         grad+8(FP), DX
	MOVQ         mom+16(FP), R8
	MOVQ         vel+24(FP), R9
	MOVQ         n+32(FP), CX
	VBROADCASTSS b1+40(FP), Z10
	VBROADCASTSS c1+44(FP), Z11
	VBROADCASTSS b2+48(FP), Z12
	VBROADCASTSS c2+52(FP), Z13
	VBROADCASTSS lr+56(FP), Z14
	VBROADCASTSS eps+60(FP), Z15
	MOVQ         $0xffff, R13
	KMOVW        R13, K1

adam_loop:
	CMPQ CX, $16
	JLT  adam_tail
	ADAMSTEP
	ADDQ $64, SI
	ADDQ $64, DX
	ADDQ $64, R8
	ADDQ $64, R9
	SUBQ $16, CX
	JMP  adam_loop

adam_tail:
	TESTQ CX, CX
	JZ    adam_done
	TAILMASK
	ADAMSTEP

adam_done:
	VZEROUPPER
	RET

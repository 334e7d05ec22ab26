//go:build amd64 && !purego

#include "textflag.h"

// AVX-512 elementwise helpers (see vec.go). Each processes 16 float32 per
// step and finishes with one masked step for the last n mod 16 elements.

// ROWSETUP loads the arguments of copyRows512 / addRows512: DI dst, SI src,
// DX rows, R8 full 16-wide chunks per row, K1 the mask of the last
// width mod 16 columns (empty if none), R9 and R10 the row strides in bytes.
#define ROWSETUP \
	MOVQ  dst+0(FP), DI;    \
	MOVQ  src+8(FP), SI;    \
	MOVQ  rows+16(FP), DX;  \
	MOVQ  width+24(FP), R8; \
	MOVQ  lddst+32(FP), R9; \
	MOVQ  ldsrc+40(FP), R10; \
	SHLQ  $2, R9;           \
	SHLQ  $2, R10;          \
	MOVQ  R8, CX;           \
	ANDQ  $15, CX;          \
	MOVQ  $1, R13;          \
	SHLQ  CX, R13;          \
	DECQ  R13;              \
	KMOVW R13, K1;          \
	SHRQ  $4, R8

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

// TAILMASK sets K1 to the low CX bits (CX in 1..15), using R13.
#define TAILMASK \
	MOVQ  $1, R13;  \
	SHLQ  CX, R13;  \
	DECQ  R13;      \
	KMOVW R13, K1

// func addBias512(dst, src *float32, n int, b float32)
TEXT ·addBias512(SB), NOSPLIT, $0-28
	MOVQ         dst+0(FP), DI
	MOVQ         src+8(FP), SI
	MOVQ         n+16(FP), CX
	VBROADCASTSS b+24(FP), Z1

ab_loop:
	CMPQ    CX, $16
	JLT     ab_tail
	VADDPS  (SI), Z1, Z0
	VMOVUPS Z0, (DI)
	ADDQ    $64, SI
	ADDQ    $64, DI
	SUBQ    $16, CX
	JMP     ab_loop

ab_tail:
	TESTQ     CX, CX
	JZ        ab_done
	TAILMASK
	VMOVUPS.Z (SI), K1, Z0
	VADDPS    Z0, Z1, Z0
	VMOVUPS   Z0, K1, (DI)

ab_done:
	VZEROUPPER
	RET

// func addBiasReLU512(dst, src *float32, n int, b float32)
//
// max(0, v) with v as the second operand of VMAXPS: a NaN or a -0 passes
// through, as in the portable `if v < 0 { v = 0 }`.
TEXT ·addBiasReLU512(SB), NOSPLIT, $0-28
	MOVQ         dst+0(FP), DI
	MOVQ         src+8(FP), SI
	MOVQ         n+16(FP), CX
	VBROADCASTSS b+24(FP), Z1
	VPXORD       Z2, Z2, Z2

abr_loop:
	CMPQ    CX, $16
	JLT     abr_tail
	VADDPS  (SI), Z1, Z0
	VMAXPS  Z0, Z2, Z0
	VMOVUPS Z0, (DI)
	ADDQ    $64, SI
	ADDQ    $64, DI
	SUBQ    $16, CX
	JMP     abr_loop

abr_tail:
	TESTQ     CX, CX
	JZ        abr_done
	TAILMASK
	VMOVUPS.Z (SI), K1, Z0
	VADDPS    Z0, Z1, Z0
	VMAXPS    Z0, Z2, Z0
	VMOVUPS   Z0, K1, (DI)

abr_done:
	VZEROUPPER
	RET

// REDUCE sums the 16 lanes of Z0 into X0 by the fixed tree of vec.go.
#define REDUCE \
	VEXTRACTF64X4 $1, Z0, Y1;  \
	VADDPS        Y1, Y0, Y0;  \
	VEXTRACTF128  $1, Y0, X1;  \
	VADDPS        X1, X0, X0;  \
	VPERMILPS     $0x0e, X0, X1; \
	VADDPS        X1, X0, X0;  \
	VMOVSHDUP     X0, X1;      \
	VADDSS        X1, X0, X0

// func reluMaskSum512(dz, y, dy *float32, n int) float32
TEXT ·reluMaskSum512(SB), NOSPLIT, $0-36
	MOVQ   dz+0(FP), DI
	MOVQ   y+8(FP), SI
	MOVQ   dy+16(FP), DX
	MOVQ   n+24(FP), CX
	VPXORD Z0, Z0, Z0
	VPXORD Z31, Z31, Z31

rms_loop:
	CMPQ      CX, $16
	JLT       rms_tail
	VMOVUPS   (SI), Z1
	VCMPPS    $0x1e, Z31, Z1, K2 // y > 0, false for NaN
	VMOVUPS.Z (DX), K2, Z2
	VMOVUPS   Z2, (DI)
	VADDPS    Z2, Z0, Z0
	ADDQ      $64, SI
	ADDQ      $64, DI
	ADDQ      $64, DX
	SUBQ      $16, CX
	JMP       rms_loop

rms_tail:
	TESTQ     CX, CX
	JZ        rms_done
	TAILMASK
	VMOVUPS.Z (SI), K1, Z1
	VCMPPS    $0x1e, Z31, Z1, K1, K2
	VMOVUPS.Z (DX), K2, Z2
	VMOVUPS   Z2, K1, (DI)
	VADDPS    Z2, Z0, Z0

rms_done:
	REDUCE
	MOVSS X0, ret+32(FP)
	VZEROUPPER
	RET

// func sum512(x *float32, n int) float32
TEXT ·sum512(SB), NOSPLIT, $0-20
	MOVQ   x+0(FP), SI
	MOVQ   n+8(FP), CX
	VPXORD Z0, Z0, Z0

s_loop:
	CMPQ   CX, $16
	JLT    s_tail
	VADDPS (SI), Z0, Z0
	ADDQ   $64, SI
	SUBQ   $16, CX
	JMP    s_loop

s_tail:
	TESTQ     CX, CX
	JZ        s_done
	TAILMASK
	VMOVUPS.Z (SI), K1, Z1
	VADDPS    Z1, Z0, Z0

s_done:
	REDUCE
	MOVSS X0, ret+16(FP)
	VZEROUPPER
	RET

// func copyRows512(dst, src *float32, rows, width, lddst, ldsrc int)
TEXT ·copyRows512(SB), NOSPLIT, $0-48
	ROWSETUP
	TESTQ DX, DX
	JZ    cr_done

cr_row:
	MOVQ  DI, R11
	MOVQ  SI, R12
	MOVQ  R8, CX
	TESTQ CX, CX
	JZ    cr_tail

cr_chunk:
	VMOVUPS (R12), Z0
	VMOVUPS Z0, (R11)
	ADDQ    $64, R11
	ADDQ    $64, R12
	DECQ    CX
	JNZ     cr_chunk

cr_tail:
	// Masked-off lanes are neither read nor written (no faults).
	VMOVUPS.Z (R12), K1, Z0
	VMOVUPS   Z0, K1, (R11)
	ADDQ      R9, DI
	ADDQ      R10, SI
	DECQ      DX
	JNZ       cr_row

cr_done:
	VZEROUPPER
	RET

// func addRows512(dst, src *float32, rows, width, lddst, ldsrc int)
TEXT ·addRows512(SB), NOSPLIT, $0-48
	ROWSETUP
	TESTQ DX, DX
	JZ    ar_done

ar_row:
	MOVQ  DI, R11
	MOVQ  SI, R12
	MOVQ  R8, CX
	TESTQ CX, CX
	JZ    ar_tail

ar_chunk:
	VMOVUPS (R11), Z1
	VADDPS  (R12), Z1, Z1
	VMOVUPS Z1, (R11)
	ADDQ    $64, R11
	ADDQ    $64, R12
	DECQ    CX
	JNZ     ar_chunk

ar_tail:
	VMOVUPS.Z (R12), K1, Z0
	VMOVUPS.Z (R11), K1, Z1
	VADDPS    Z0, Z1, Z1
	VMOVUPS   Z1, K1, (R11)
	ADDQ      R9, DI
	ADDQ      R10, SI
	DECQ      DX
	JNZ       ar_row

ar_done:
	VZEROUPPER
	RET

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

// Lane indices for MaxPool2x2: the even and odd positions of 32 values
// (two ZMM registers) and 2*lane.
DATA poolEven<>+0(SB)/4, $0
DATA poolEven<>+4(SB)/4, $2
DATA poolEven<>+8(SB)/4, $4
DATA poolEven<>+12(SB)/4, $6
DATA poolEven<>+16(SB)/4, $8
DATA poolEven<>+20(SB)/4, $10
DATA poolEven<>+24(SB)/4, $12
DATA poolEven<>+28(SB)/4, $14
DATA poolEven<>+32(SB)/4, $16
DATA poolEven<>+36(SB)/4, $18
DATA poolEven<>+40(SB)/4, $20
DATA poolEven<>+44(SB)/4, $22
DATA poolEven<>+48(SB)/4, $24
DATA poolEven<>+52(SB)/4, $26
DATA poolEven<>+56(SB)/4, $28
DATA poolEven<>+60(SB)/4, $30
GLOBL poolEven<>(SB), RODATA|NOPTR, $64

// func maxPool2x2Plane512(y *float32, arg *int32, x *float32, w, oh, ow int) bool
//
// Per output row: rows 2r and 2r+1 of x are loaded 32 values at a time,
// split into the window corners a, b (top) and c, d (bottom) with
// VPERMI2PS, and reduced with strict comparisons so that the first maximum
// wins, as in the portable kernel. Returns false, leaving the plane
// partly written, when a NaN (or an infinite sum) shows up; the caller then
// runs the portable kernel, whose NaN rule differs from VMAXPS'.
TEXT ·maxPool2x2Plane512(SB), NOSPLIT, $0-49
	MOVQ    y+0(FP), DI
	MOVQ    arg+8(FP), R15
	MOVQ    x+16(FP), SI
	MOVQ    w+24(FP), R8
	MOVQ    oh+32(FP), R9
	MOVQ    ow+40(FP), R10
	VMOVUPS poolEven<>(SB), Z20 // 0, 2, ..., 30
	MOVL    $1, AX
	VPBROADCASTD AX, Z22        // ones
	VPADDD  Z22, Z20, Z21       // 1, 3, ..., 31
	MOVL    $0xffff, AX
	KMOVW   AX, K6              // all lanes
	// Tail masks for the last ow mod 16 outputs: K5 outputs, K3 and K4
	// the low and high 16 inputs.
	MOVQ    R10, CX
	ANDQ    $15, CX
	MOVQ    $1, R13
	SHLQ    CX, R13
	DECQ    R13
	KMOVW   R13, K5
	MOVQ    $1, R13
	SHLQ    CX, R13
	SHLQ    CX, R13
	DECQ    R13
	KMOVW   R13, K3
	SHRQ    $16, R13
	KMOVW   R13, K4
	MOVQ    R10, R11
	SHRQ    $4, R11             // full chunks per row
	XORQ    BX, BX              // output row r
	XORQ    R12, R12            // 2*r*w, the row pair's first index

mp_row:
	CMPQ BX, R9
	JGE  mp_ok
	LEAQ (SI)(R12*4), AX        // row 2r
	LEAQ (AX)(R8*4), DX         // row 2r+1
	MOVQ R12, R14               // index of the chunk's first input
	MOVQ R11, CX
	TESTQ CX, CX
	JZ   mp_tail

mp_chunk:
	VMOVUPS (AX), Z0
	VMOVUPS 64(AX), Z1
	VMOVUPS (DX), Z2
	VMOVUPS 64(DX), Z3
	CALL    mpCore<>(SB)
	JNZ     mp_nan
	VMOVUPS Z8, (DI)
	VMOVDQU32 Z9, (R15)
	ADDQ    $128, AX
	ADDQ    $128, DX
	ADDQ    $64, DI
	ADDQ    $64, R15
	ADDQ    $32, R14
	DECQ    CX
	JNZ     mp_chunk

mp_tail:
	KORTESTW K5, K5
	JZ       mp_next
	VMOVUPS.Z (AX), K3, Z0
	VMOVUPS.Z 64(AX), K4, Z1
	VMOVUPS.Z (DX), K3, Z2
	VMOVUPS.Z 64(DX), K4, Z3
	CALL      mpCore<>(SB)
	JNZ       mp_nan
	VMOVUPS   Z8, K5, (DI)
	VMOVDQU32 Z9, K5, (R15)
	MOVQ      R10, CX
	ANDQ      $15, CX
	LEAQ      (DI)(CX*4), DI
	LEAQ      (R15)(CX*4), R15

mp_next:
	INCQ BX
	LEAQ (R12)(R8*2), R12
	JMP  mp_row

mp_ok:
	MOVB $1, ret+48(FP)
	VZEROUPPER
	RET

mp_nan:
	MOVB $0, ret+48(FP)
	VZEROUPPER
	RET

// mpCore reduces one chunk: Z0, Z1 (top row) and Z2, Z3 (bottom row), the
// chunk's first input index in R14 and the row width in R8, to the maxima
// in Z8 and their indices in Z9. ZF is clear when an input was NaN or
// infinite.
TEXT mpCore<>(SB), NOSPLIT|NOFRAME, $0-0
	VMOVAPS   Z20, Z4
	VPERMI2PS Z1, Z0, Z4        // a
	VMOVAPS   Z21, Z5
	VPERMI2PS Z1, Z0, Z5        // b
	VMOVAPS   Z20, Z6
	VPERMI2PS Z3, Z2, Z6        // c
	VMOVAPS   Z21, Z7
	VPERMI2PS Z3, Z2, Z7        // d
	MOVL      R14, R13
	VPBROADCASTD R13, Z10
	VPADDD    Z20, Z10, Z10     // i0 = first + 2*lane
	MOVL      R8, R13
	VPBROADCASTD R13, Z11
	VPADDD    Z10, Z11, Z11     // i0 + w
	VCMPPS    $0x1e, Z4, Z5, K1 // b > a
	VBLENDMPS Z5, Z4, K1, Z12   // m01
	VPADDD    Z22, Z10, K1, Z10 // i01
	VCMPPS    $0x1e, Z6, Z7, K2 // d > c
	VBLENDMPS Z7, Z6, K2, Z13   // m23
	VPADDD    Z22, Z11, K2, Z11 // i23
	VCMPPS    $0x1e, Z12, Z13, K1 // m23 > m01
	VBLENDMPS Z13, Z12, K1, Z8
	VPBLENDMD Z11, Z10, K1, Z9
	// NaN or infinity anywhere: a - a is NaN.
	VSUBPS    Z0, Z0, Z14
	VSUBPS    Z1, Z1, Z15
	VADDPS    Z14, Z15, Z14
	VSUBPS    Z2, Z2, Z15
	VADDPS    Z14, Z15, Z14
	VSUBPS    Z3, Z3, Z15
	VADDPS    Z14, Z15, Z14
	VCMPPS    $3, Z14, Z14, K7
	KORTESTW  K7, K7
	RET

// func dot512(x, y *float32, n int) float32
//
// Four accumulators over 64-value blocks, then 16-value steps into the
// first; products are rounded before the add (no FMA), as in dotGo.
TEXT ·dot512(SB), NOSPLIT, $0-28
	MOVQ   x+0(FP), SI
	MOVQ   y+8(FP), DI
	MOVQ   n+16(FP), CX
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3

dot_loop64:
	CMPQ    CX, $64
	JLT     dot_loop16
	VMOVUPS (SI), Z4
	VMULPS  (DI), Z4, Z4
	VADDPS  Z4, Z0, Z0
	VMOVUPS 64(SI), Z5
	VMULPS  64(DI), Z5, Z5
	VADDPS  Z5, Z1, Z1
	VMOVUPS 128(SI), Z6
	VMULPS  128(DI), Z6, Z6
	VADDPS  Z6, Z2, Z2
	VMOVUPS 192(SI), Z7
	VMULPS  192(DI), Z7, Z7
	VADDPS  Z7, Z3, Z3
	ADDQ    $256, SI
	ADDQ    $256, DI
	SUBQ    $64, CX
	JMP     dot_loop64

dot_loop16:
	CMPQ    CX, $16
	JLT     dot_tail
	VMOVUPS (SI), Z4
	VMULPS  (DI), Z4, Z4
	VADDPS  Z4, Z0, Z0
	ADDQ    $64, SI
	ADDQ    $64, DI
	SUBQ    $16, CX
	JMP     dot_loop16

dot_tail:
	TESTQ     CX, CX
	JZ        dot_done
	TAILMASK
	VMOVUPS.Z (SI), K1, Z4
	VMOVUPS.Z (DI), K1, Z5
	VMULPS    Z5, Z4, Z4
	VADDPS    Z4, Z0, Z0

dot_done:
	VADDPS Z1, Z0, Z0
	VADDPS Z3, Z2, Z2
	VADDPS Z2, Z0, Z0
	REDUCE
	MOVSS  X0, ret+24(FP)
	VZEROUPPER
	RET

// func gatherPlanes512(dst *float32, ld int, src *float32, planes, hw int, idx *int32, nidx, width int)
//
// For each of planes source planes of hw <= 32 values (consecutive in
// src), and each k < nidx: dst row (plane*nidx + k) (rows ld floats apart)
// gets width <= 16 values, value o being the plane's value idx[k*16+o].
TEXT ·gatherPlanes512(SB), NOSPLIT, $0-64
	MOVQ dst+0(FP), DI
	MOVQ ld+8(FP), R8
	SHLQ $2, R8
	MOVQ src+16(FP), SI
	MOVQ planes+24(FP), R9
	MOVQ hw+32(FP), CX
	MOVQ idx+40(FP), R10
	MOVQ nidx+48(FP), R11
	// K2, K3: the plane's low and high 16 values; K1: the row's width.
	MOVQ  $1, R13
	SHLQ  CX, R13
	DECQ  R13
	KMOVW R13, K2
	SHRQ  $16, R13
	KMOVW R13, K3
	MOVQ  width+56(FP), CX
	MOVQ  $1, R13
	SHLQ  CX, R13
	DECQ  R13
	KMOVW R13, K1
	MOVQ  hw+32(FP), R12
	SHLQ  $2, R12            // plane stride in bytes
	TESTQ R9, R9
	JZ    gp_done

gp_plane:
	VMOVUPS.Z (SI), K2, Z0
	VMOVUPS.Z 64(SI), K3, Z1
	MOVQ      R10, AX
	MOVQ      R11, CX

gp_row:
	VMOVDQU32 (AX), Z2
	VPERMI2PS Z1, Z0, Z2
	VMOVUPS   Z2, K1, (DI)
	ADDQ      $64, AX
	ADDQ      R8, DI
	DECQ      CX
	JNZ       gp_row
	ADDQ      R12, SI
	DECQ      R9
	JNZ       gp_plane

gp_done:
	VZEROUPPER
	RET

// func col2imPlain512(dx, dcol *float32, ld, c, h, w, kh, kw, oh, ow int)
//
// Stride 1, no padding or dilation, w <= 16: each row of dx is summed in
// one register from its kh*kw contributions, each a masked load of a row
// of dcol shifted by kj lanes, in the order ki, kj ascending, and stored
// once.
TEXT ·col2imPlain512(SB), NOSPLIT, $0-80
	MOVQ  dx+0(FP), DI
	MOVQ  dcol+8(FP), AX
	MOVQ  ld+16(FP), R8
	SHLQ  $2, R8
	MOVQ  c+24(FP), R9
	MOVQ  h+32(FP), R10
	MOVQ  w+40(FP), CX
	MOVQ  $1, R13
	SHLQ  CX, R13
	DECQ  R13
	KMOVW R13, K2            // a dx row
	MOVQ  kh+48(FP), R11
	MOVQ  kw+56(FP), R12
	MOVQ  oh+64(FP), R15
	MOVQ  ow+72(FP), CX
	MOVQ  $1, R14
	SHLQ  CX, R14
	DECQ  R14                // a dcol row, before the shift by kj
	TESTQ R9, R9
	JZ    ci_done

ci_chan:
	XORQ BX, BX              // ih

ci_row:
	VPXORD Z0, Z0, Z0
	MOVQ   BX, DX
	SUBQ   R15, DX
	INCQ   DX                // first ki: ih - oh + 1, at least 0
	TESTQ  DX, DX
	JGE    ci_ki
	XORQ   DX, DX

ci_ki:
	CMPQ  DX, R11
	JGE   ci_store
	CMPQ  DX, BX
	JG    ci_store
	MOVQ  DX, SI
	IMULQ R12, SI
	IMULQ R8, SI
	ADDQ  AX, SI             // row (ki, kj = 0) of this channel
	MOVQ  BX, R13
	SUBQ  DX, R13
	IMULQ ow+72(FP), R13
	SHLQ  $2, R13
	ADDQ  R13, SI            // at output row ih - ki
	XORQ  CX, CX             // kj

ci_kj:
	MOVQ      R14, R13
	SHLQ      CX, R13
	KMOVW     R13, K1
	MOVQ      CX, R13
	SHLQ      $2, R13
	NEGQ      R13
	ADDQ      SI, R13
	VMOVUPS.Z (R13), K1, Z1  // lanes kj .. kj+ow-1 only
	VADDPS    Z1, Z0, Z0
	ADDQ      R8, SI
	INCQ      CX
	CMPQ      CX, R12
	JLT       ci_kj
	INCQ      DX
	JMP       ci_ki

ci_store:
	VMOVUPS Z0, K2, (DI)
	MOVQ    w+40(FP), R13
	LEAQ    (DI)(R13*4), DI
	INCQ    BX
	CMPQ    BX, R10
	JLT     ci_row
	MOVQ    R11, R13
	IMULQ   R12, R13
	IMULQ   R8, R13
	ADDQ    R13, AX          // next channel's kh*kw rows
	DECQ    R9
	JNZ     ci_chan

ci_done:
	VZEROUPPER
	RET

// func im2colPlain512(col, x *float32, ld, c, h, w, kh, kw, oh, ow int)
//
// Stride 1, no padding or dilation, ow <= 16: one masked load and store
// per output row of each (channel, ki, kj) row of col.
TEXT ·im2colPlain512(SB), NOSPLIT, $0-80
	MOVQ  col+0(FP), DI
	MOVQ  x+8(FP), AX
	MOVQ  ld+16(FP), R8
	SHLQ  $2, R8
	MOVQ  c+24(FP), R9
	MOVQ  w+40(FP), R10
	SHLQ  $2, R10            // input row stride in bytes
	MOVQ  ow+72(FP), CX
	MOVQ  $1, R13
	SHLQ  CX, R13
	DECQ  R13
	KMOVW R13, K1
	MOVQ  CX, R14
	SHLQ  $2, R14            // output row stride in bytes
	TESTQ R9, R9
	JZ    ic_done

ic_chan:
	XORQ DX, DX              // ki

ic_ki:
	XORQ CX, CX              // kj

ic_kj:
	// Row (ch, ki, kj) of col at DI; its source starts at x[ch][ki][kj].
	MOVQ  DX, SI
	IMULQ R10, SI
	ADDQ  AX, SI
	LEAQ  (SI)(CX*4), SI
	MOVQ  DI, R11
	MOVQ  oh+64(FP), R12

ic_row:
	VMOVUPS.Z (SI), K1, Z0
	VMOVUPS   Z0, K1, (R11)
	ADDQ      R10, SI
	ADDQ      R14, R11
	DECQ      R12
	JNZ       ic_row
	ADDQ      R8, DI
	INCQ      CX
	CMPQ      CX, kw+56(FP)
	JLT       ic_kj
	INCQ      DX
	CMPQ      DX, kh+48(FP)
	JLT       ic_ki
	MOVQ      h+32(FP), R13
	IMULQ     R10, R13
	ADDQ      R13, AX        // next input channel
	DECQ      R9
	JNZ       ic_chan

ic_done:
	VZEROUPPER
	RET

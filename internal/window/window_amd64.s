//go:build amd64 && !purego

#include "textflag.h"

// AVX-512 kernels of the sliding-window layers (see window.go): 2x2 max
// pooling, and im2col / col2im for small unpadded maps.

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

//go:build amd64 && !purego

#include "textflag.h"

// AVX2/FMA micro-kernel: a 6x16 tile of C held in Y0..Y11 (row r in Y(2r),
// Y(2r+1)). Same contract as kernel8x32 (see kernel_avx512_amd64.s): A[r,p]
// at a + 4*(r*rsa + p*csa), B[p, 0:16] at b + 4*p*ldb, the first mr rows and
// nr columns of the tile written as C = alpha*acc + beta*C (beta == 0: C is
// not read). Every element is the sequential float32 FMA chain over p.

// maskTab: 16 all-ones words then 16 zero words. Loading 8 words at
// maskTab + 4*(16-nr) gives the VMASKMOVPS mask of columns 0..7, at
// maskTab + 4*(24-nr) that of columns 8..15.
DATA maskTab<>+0(SB)/8, $0xffffffffffffffff
DATA maskTab<>+8(SB)/8, $0xffffffffffffffff
DATA maskTab<>+16(SB)/8, $0xffffffffffffffff
DATA maskTab<>+24(SB)/8, $0xffffffffffffffff
DATA maskTab<>+32(SB)/8, $0xffffffffffffffff
DATA maskTab<>+40(SB)/8, $0xffffffffffffffff
DATA maskTab<>+48(SB)/8, $0xffffffffffffffff
DATA maskTab<>+56(SB)/8, $0xffffffffffffffff
DATA maskTab<>+64(SB)/8, $0
DATA maskTab<>+72(SB)/8, $0
DATA maskTab<>+80(SB)/8, $0
DATA maskTab<>+88(SB)/8, $0
DATA maskTab<>+96(SB)/8, $0
DATA maskTab<>+104(SB)/8, $0
DATA maskTab<>+112(SB)/8, $0
DATA maskTab<>+120(SB)/8, $0
GLOBL maskTab<>(SB), RODATA|NOPTR, $128

// One k step.
#define STEP \
	VMOVUPS      (BX), Y12;          \
	VMOVUPS      32(BX), Y13;        \
	VBROADCASTSS (AX), Y14;          \
	VBROADCASTSS (AX)(R8*1), Y15;    \
	VFMADD231PS  Y12, Y14, Y0;       \
	VFMADD231PS  Y13, Y14, Y1;       \
	VFMADD231PS  Y12, Y15, Y2;       \
	VFMADD231PS  Y13, Y15, Y3;       \
	VBROADCASTSS (AX)(R8*2), Y14;    \
	VBROADCASTSS (AX)(R9*1), Y15;    \
	VFMADD231PS  Y12, Y14, Y4;       \
	VFMADD231PS  Y13, Y14, Y5;       \
	VFMADD231PS  Y12, Y15, Y6;       \
	VFMADD231PS  Y13, Y15, Y7;       \
	VBROADCASTSS (DX), Y14;          \
	VBROADCASTSS (DX)(R8*1), Y15;    \
	VFMADD231PS  Y12, Y14, Y8;       \
	VFMADD231PS  Y13, Y14, Y9;       \
	VFMADD231PS  Y12, Y15, Y10;      \
	VFMADD231PS  Y13, Y15, Y11;      \
	ADDQ         R10, AX;            \
	ADDQ         R10, DX;            \
	ADDQ         R11, BX

// Full-width rows (nr == 16).
#define ROW0(lo, hi) \
	VMOVUPS lo, (DI);   \
	VMOVUPS hi, 32(DI)

#define ROWB(lo, hi) \
	VFMADD231PS (DI), Y12, lo;   \
	VFMADD231PS 32(DI), Y12, hi; \
	VMOVUPS     lo, (DI);        \
	VMOVUPS     hi, 32(DI)

// Partial rows (nr < 16): masks in Y14 (columns 0..7) and Y15 (8..15).
#define MROW0(lo, hi) \
	VMASKMOVPS lo, Y14, (DI);  \
	VMASKMOVPS hi, Y15, 32(DI)

#define MROWB(lo, hi) \
	VMASKMOVPS  (DI), Y14, Y13;   \
	VFMADD231PS Y12, Y13, lo;     \
	VMASKMOVPS  32(DI), Y15, Y13; \
	VFMADD231PS Y12, Y13, hi;     \
	VMASKMOVPS  lo, Y14, (DI);    \
	VMASKMOVPS  hi, Y15, 32(DI)

#define NEXT(label) \
	DECQ SI;       \
	JZ   label;    \
	ADDQ R12, DI

#define ROWS(R) \
	R(Y0, Y1);    \
	NEXT(done);   \
	R(Y2, Y3);    \
	NEXT(done);   \
	R(Y4, Y5);    \
	NEXT(done);   \
	R(Y6, Y7);    \
	NEXT(done);   \
	R(Y8, Y9);    \
	NEXT(done);   \
	R(Y10, Y11);  \
	JMP  done

// func kernel6x16(k int, a *float32, rsa int, csa int, b *float32, ldb int, c *float32, ldc int, alpha float32, beta float32, mr int, nr int)
TEXT ·kernel6x16(SB), NOSPLIT, $0-88
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), AX
	MOVQ rsa+16(FP), R8
	MOVQ csa+24(FP), R10
	MOVQ b+32(FP), BX
	MOVQ ldb+40(FP), R11
	SHLQ $2, R8
	SHLQ $2, R10
	SHLQ $2, R11
	LEAQ (R8)(R8*2), R9  // 3 rows
	LEAQ (AX)(R8*4), DX  // row 4

	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	VXORPS Y8, Y8, Y8
	VXORPS Y9, Y9, Y9
	VXORPS Y10, Y10, Y10
	VXORPS Y11, Y11, Y11

	CMPQ CX, $4
	JLT  tail

loop4:
	STEP
	STEP
	STEP
	STEP
	SUBQ $4, CX
	CMPQ CX, $4
	JGE  loop4

tail:
	TESTQ CX, CX
	JZ    store

loop1:
	STEP
	DECQ CX
	JNZ  loop1

store:
	MOVQ c+48(FP), DI
	MOVQ ldc+56(FP), R12
	SHLQ $2, R12
	MOVQ mr+72(FP), SI

	VBROADCASTSS alpha+64(FP), Y12
	VMULPS       Y12, Y0, Y0
	VMULPS       Y12, Y1, Y1
	VMULPS       Y12, Y2, Y2
	VMULPS       Y12, Y3, Y3
	VMULPS       Y12, Y4, Y4
	VMULPS       Y12, Y5, Y5
	VMULPS       Y12, Y6, Y6
	VMULPS       Y12, Y7, Y7
	VMULPS       Y12, Y8, Y8
	VMULPS       Y12, Y9, Y9
	VMULPS       Y12, Y10, Y10
	VMULPS       Y12, Y11, Y11
	VBROADCASTSS beta+68(FP), Y12

	MOVL beta+68(FP), R13
	ANDL $0x7fffffff, R13 // R13 == 0: beta is +0 or -0
	MOVQ nr+80(FP), CX
	CMPQ CX, $16
	JLT  partial

	TESTL R13, R13
	JZ    full0
	ROWS(ROWB)

full0:
	ROWS(ROW0)

partial:
	LEAQ    maskTab<>(SB), R11
	NEGQ    CX
	LEAQ    64(R11)(CX*4), R11 // maskTab + 4*(16-nr)
	VMOVUPS (R11), Y14
	VMOVUPS 32(R11), Y15
	TESTL   R13, R13
	JZ      part0
	ROWS(MROWB)

part0:
	ROWS(MROW0)

done:
	VZEROUPPER
	RET

//go:build amd64 && !purego

#include "textflag.h"

// AVX-512 micro-kernel: an 8x32 tile of C held in Z0..Z15 (row r in Z(2r),
// Z(2r+1)). Per step p of the k loop it loads one 32-wide row of B into
// Z16/Z17, broadcasts A[r,p] for the 8 rows and issues 16 FMAs, so every
// element of C is the sequential float32 FMA chain over p = 0..k-1 whatever
// its position in the tile.
//
// A[r,p] is read at a + 4*(r*rsa + p*csa): packed panels (rsa = 1, csa = 8),
// a transposed A read in place (rsa = 1, csa = lda) and a plain A read in
// place (rsa = lda, csa = 1) all use the same code. B[p, 0:32] is read at
// b + 4*p*ldb. The tile is written to the first mr rows and nr columns of C
// (masked), as C = alpha*acc + beta*C, or C = alpha*acc when beta == 0
// (C is then not read).

// One k step.
#define STEP \
	VMOVUPS      (BX), Z16;          \
	VMOVUPS      64(BX), Z17;        \
	VBROADCASTSS (AX), Z18;          \
	VBROADCASTSS (AX)(R8*1), Z19;    \
	VBROADCASTSS (AX)(R8*2), Z20;    \
	VBROADCASTSS (AX)(R9*1), Z21;    \
	VFMADD231PS  Z16, Z18, Z0;       \
	VFMADD231PS  Z17, Z18, Z1;       \
	VFMADD231PS  Z16, Z19, Z2;       \
	VFMADD231PS  Z17, Z19, Z3;       \
	VBROADCASTSS (DX), Z22;          \
	VBROADCASTSS (DX)(R8*1), Z23;    \
	VFMADD231PS  Z16, Z20, Z4;       \
	VFMADD231PS  Z17, Z20, Z5;       \
	VFMADD231PS  Z16, Z21, Z6;       \
	VFMADD231PS  Z17, Z21, Z7;       \
	VBROADCASTSS (DX)(R8*2), Z24;    \
	VBROADCASTSS (DX)(R9*1), Z25;    \
	VFMADD231PS  Z16, Z22, Z8;       \
	VFMADD231PS  Z17, Z22, Z9;       \
	VFMADD231PS  Z16, Z23, Z10;      \
	VFMADD231PS  Z17, Z23, Z11;      \
	VFMADD231PS  Z16, Z24, Z12;      \
	VFMADD231PS  Z17, Z24, Z13;      \
	VFMADD231PS  Z16, Z25, Z14;      \
	VFMADD231PS  Z17, Z25, Z15;      \
	ADDQ         R10, AX;            \
	ADDQ         R10, DX;            \
	ADDQ         R11, BX

// Store one row with beta == 0: C = acc (already scaled by alpha).
#define ROW0(lo, hi) \
	VMOVUPS lo, K1, (DI);   \
	VMOVUPS hi, K2, 64(DI)

// Store one row with beta != 0 (Z31 = beta): C = fma(C, beta, acc).
#define ROWB(lo, hi) \
	VMOVUPS.Z   (DI), K1, Z28;   \
	VMOVUPS.Z   64(DI), K2, Z29; \
	VFMADD231PS Z31, Z28, lo;    \
	VFMADD231PS Z31, Z29, hi;    \
	VMOVUPS     lo, K1, (DI);    \
	VMOVUPS     hi, K2, 64(DI)

// Next row, or done when mr rows have been written.
#define NEXT(label) \
	DECQ SI;       \
	JZ   label;    \
	ADDQ R12, DI

// func kernel8x32(k int, a *float32, rsa int, csa int, b *float32, ldb int, c *float32, ldc int, alpha float32, beta float32, mr int, nr int)
TEXT ·kernel8x32(SB), NOSPLIT, $0-88
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

	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7
	VPXORD Z8, Z8, Z8
	VPXORD Z9, Z9, Z9
	VPXORD Z10, Z10, Z10
	VPXORD Z11, Z11, Z11
	VPXORD Z12, Z12, Z12
	VPXORD Z13, Z13, Z13
	VPXORD Z14, Z14, Z14
	VPXORD Z15, Z15, Z15

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
	// Column masks: K1 for columns 0..15, K2 for 16..31.
	MOVQ  nr+80(FP), CX
	MOVQ  $1, R13
	SHLQ  CX, R13
	DECQ  R13
	KMOVW R13, K1
	SHRQ  $16, R13
	KMOVW R13, K2

	MOVQ c+48(FP), DI
	MOVQ ldc+56(FP), R12
	SHLQ $2, R12
	MOVQ mr+72(FP), SI

	VBROADCASTSS alpha+64(FP), Z30
	VMULPS       Z30, Z0, Z0
	VMULPS       Z30, Z1, Z1
	VMULPS       Z30, Z2, Z2
	VMULPS       Z30, Z3, Z3
	VMULPS       Z30, Z4, Z4
	VMULPS       Z30, Z5, Z5
	VMULPS       Z30, Z6, Z6
	VMULPS       Z30, Z7, Z7
	VMULPS       Z30, Z8, Z8
	VMULPS       Z30, Z9, Z9
	VMULPS       Z30, Z10, Z10
	VMULPS       Z30, Z11, Z11
	VMULPS       Z30, Z12, Z12
	VMULPS       Z30, Z13, Z13
	VMULPS       Z30, Z14, Z14
	VMULPS       Z30, Z15, Z15

	MOVL beta+68(FP), R13
	ANDL $0x7fffffff, R13 // beta == +0 or -0
	JZ   nobeta

	VBROADCASTSS beta+68(FP), Z31
	ROWB(Z0, Z1)
	NEXT(done)
	ROWB(Z2, Z3)
	NEXT(done)
	ROWB(Z4, Z5)
	NEXT(done)
	ROWB(Z6, Z7)
	NEXT(done)
	ROWB(Z8, Z9)
	NEXT(done)
	ROWB(Z10, Z11)
	NEXT(done)
	ROWB(Z12, Z13)
	NEXT(done)
	ROWB(Z14, Z15)
	JMP  done

nobeta:
	ROW0(Z0, Z1)
	NEXT(done)
	ROW0(Z2, Z3)
	NEXT(done)
	ROW0(Z4, Z5)
	NEXT(done)
	ROW0(Z6, Z7)
	NEXT(done)
	ROW0(Z8, Z9)
	NEXT(done)
	ROW0(Z10, Z11)
	NEXT(done)
	ROW0(Z12, Z13)
	NEXT(done)
	ROW0(Z14, Z15)

done:
	VZEROUPPER
	RET

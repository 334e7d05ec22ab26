//go:build amd64 && !purego

#include "textflag.h"

// AVX-512 micro-kernel for narrow C (n <= 16): a 16x16 tile held in
// Z0..Z15 (row r in Zr). Same contract as kernel8x32 (see
// kernel_avx512_amd64.s) with 16 rows of A and 16 columns of B; per element
// it performs the same FMA chain, so it gives the same bits.

// Rows 0..3 of A at AX + {0, 1, 2, 3}*rsa, rows 4..7 at DX, 8..11 at R12,
// 12..15 at R13.
#define BCAST4(base, z0, z1, z2, z3) \
	VBROADCASTSS (base), z0;       \
	VBROADCASTSS (base)(R8*1), z1; \
	VBROADCASTSS (base)(R8*2), z2; \
	VBROADCASTSS (base)(R9*1), z3

#define FMA4(z0, z1, z2, z3, c0, c1, c2, c3) \
	VFMADD231PS Z16, z0, c0; \
	VFMADD231PS Z16, z1, c1; \
	VFMADD231PS Z16, z2, c2; \
	VFMADD231PS Z16, z3, c3

#define STEP \
	VMOVUPS (BX), Z16;                                 \
	BCAST4(AX, Z17, Z18, Z19, Z20);                    \
	BCAST4(DX, Z21, Z22, Z23, Z24);                    \
	FMA4(Z17, Z18, Z19, Z20, Z0, Z1, Z2, Z3);          \
	BCAST4(R12, Z25, Z26, Z27, Z28);                   \
	FMA4(Z21, Z22, Z23, Z24, Z4, Z5, Z6, Z7);          \
	BCAST4(R13, Z17, Z18, Z19, Z20);                   \
	FMA4(Z25, Z26, Z27, Z28, Z8, Z9, Z10, Z11);        \
	FMA4(Z17, Z18, Z19, Z20, Z12, Z13, Z14, Z15);      \
	ADDQ R10, AX;                                      \
	ADDQ R10, DX;                                      \
	ADDQ R10, R12;                                     \
	ADDQ R10, R13;                                     \
	ADDQ R11, BX

#define ROW0(z) \
	VMOVUPS z, K1, (DI)

#define ROWB(z) \
	VMOVUPS.Z   (DI), K1, Z28; \
	VFMADD231PS Z31, Z28, z;   \
	VMOVUPS     z, K1, (DI)

#define NEXT \
	DECQ SI;  \
	JZ   done; \
	ADDQ R12, DI

#define ROWS(R) \
	R(Z0); NEXT; R(Z1); NEXT; R(Z2); NEXT; R(Z3); NEXT;     \
	R(Z4); NEXT; R(Z5); NEXT; R(Z6); NEXT; R(Z7); NEXT;     \
	R(Z8); NEXT; R(Z9); NEXT; R(Z10); NEXT; R(Z11); NEXT;   \
	R(Z12); NEXT; R(Z13); NEXT; R(Z14); NEXT; R(Z15);       \
	JMP done

// func kernel16x16(k int, a *float32, rsa int, csa int, b *float32, ldb int, c *float32, ldc int, alpha float32, beta float32, mr int, nr int)
TEXT ·kernel16x16(SB), NOSPLIT, $0-88
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), AX
	MOVQ rsa+16(FP), R8
	MOVQ csa+24(FP), R10
	MOVQ b+32(FP), BX
	MOVQ ldb+40(FP), R11
	SHLQ $2, R8
	SHLQ $2, R10
	SHLQ $2, R11
	LEAQ (R8)(R8*2), R9   // 3 rows
	LEAQ (AX)(R8*4), DX   // row 4
	LEAQ (DX)(R8*4), R12  // row 8
	LEAQ (R12)(R8*4), R13 // row 12

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
	MOVQ  nr+80(FP), CX
	MOVQ  $1, R13
	SHLQ  CX, R13
	DECQ  R13
	KMOVW R13, K1

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
	ROWS(ROWB)

nobeta:
	ROWS(ROW0)

done:
	VZEROUPPER
	RET

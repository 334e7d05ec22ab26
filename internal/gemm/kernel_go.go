package gemm

// kernGo is the portable kernel: a 4x4 register-blocked tile in pure Go.
var kernGo = &kernel{name: "go", mr: 4, nr: 4, kc: 256, mc: 256, fn: microGo}

// microGo computes one 4x4 tile: acc[r][j] = sum over p of A[r,p]*B[p,j] in
// order p = 0..k-1, then C = alpha*acc + beta*C for the first mr rows and nr
// columns (beta == 0: C is not read). A[r,p] is a[r*rsa+p*csa], B[p,j] is
// b[p*ldb+j]; all 4 rows of A and 4 columns of B must be in range.
func microGo(k int, a []float32, rsa, csa int, b []float32, ldb int, c []float32, ldc int, alpha, beta float32, mr, nr int) {
	var (
		c00, c01, c02, c03 float32
		c10, c11, c12, c13 float32
		c20, c21, c22, c23 float32
		c30, c31, c32, c33 float32
	)
	ia, ib := 0, 0
	for p := 0; p < k; p++ {
		var a0, a1, a2, a3 float32
		if rsa == 1 { // packed, or A transposed: the 4 values are adjacent
			aa := a[ia : ia+4 : ia+4]
			a0, a1, a2, a3 = aa[0], aa[1], aa[2], aa[3]
		} else {
			a0, a1, a2, a3 = a[ia], a[ia+rsa], a[ia+2*rsa], a[ia+3*rsa]
		}
		bb := b[ib : ib+4 : ib+4]
		b0, b1, b2, b3 := bb[0], bb[1], bb[2], bb[3]
		c00 += a0 * b0
		c01 += a0 * b1
		c02 += a0 * b2
		c03 += a0 * b3
		c10 += a1 * b0
		c11 += a1 * b1
		c12 += a1 * b2
		c13 += a1 * b3
		c20 += a2 * b0
		c21 += a2 * b1
		c22 += a2 * b2
		c23 += a2 * b3
		c30 += a3 * b0
		c31 += a3 * b1
		c32 += a3 * b2
		c33 += a3 * b3
		ia += csa
		ib += ldb
	}
	acc := [4][4]float32{
		{c00, c01, c02, c03},
		{c10, c11, c12, c13},
		{c20, c21, c22, c23},
		{c30, c31, c32, c33},
	}
	for r := 0; r < mr; r++ {
		row := c[r*ldc : r*ldc+nr]
		if beta == 0 {
			for j := range row {
				row[j] = alpha * acc[r][j]
			}
			continue
		}
		for j := range row {
			row[j] = alpha*acc[r][j] + beta*row[j]
		}
	}
}

//go:build !amd64 || purego

package gemm

const useVec512 = false

func addBias512(dst, src *float32, n int, b float32)     { panic("unreachable") }
func addBiasReLU512(dst, src *float32, n int, b float32) { panic("unreachable") }
func reluMaskSum512(dz, y, dy *float32, n int) float32   { panic("unreachable") }
func sum512(x *float32, n int) float32                   { panic("unreachable") }

func copyRows512(dst, src *float32, rows, width, lddst, ldsrc int) { panic("unreachable") }
func addRows512(dst, src *float32, rows, width, lddst, ldsrc int)  { panic("unreachable") }

func dot512(x, y *float32, n int) float32 { panic("unreachable") }

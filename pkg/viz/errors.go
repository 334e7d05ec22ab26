package viz

import "fmt"

// ArgError reports an argument a figure cannot be drawn from: the function,
// the argument at fault and what is wrong with it.
type ArgError struct {
	Func string // the function called, such as "RenderExplain"
	Arg  string // the argument at fault, such as "probs"
	Msg  string // what is wrong
}

// Error implements the error interface.
func (e *ArgError) Error() string {
	return fmt.Sprintf("viz: %s: %s: %s", e.Func, e.Arg, e.Msg)
}

// argErr returns an *ArgError with a formatted message.
func argErr(fn, arg, format string, args ...any) error {
	return &ArgError{Func: fn, Arg: arg, Msg: fmt.Sprintf(format, args...)}
}

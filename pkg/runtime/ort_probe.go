//go:build cgo

package runtime

/*
#cgo LDFLAGS: -ldl
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

// The first two members of onnxruntime's OrtApiBase (onnxruntime_c_api.h), which have not changed
// since the C API's first release; declaring them here avoids depending on the header.
typedef struct {
	const void *(*GetApi)(uint32_t version);
	const char *(*GetVersionString)(void);
} fmkitApiBase;

typedef const fmkitApiBase *(*fmkitGetApiBaseFn)(void);

// fmkit_probe dlopens path and copies onnxruntime's version string into ver. On success it returns
// 0 and leaves the library open in *handle; otherwise it closes the library, writes the reason
// into msg and returns 1 (dlopen failed), 2 (no OrtGetApiBase symbol: not onnxruntime) or
// 3 (OrtGetApiBase returned nothing usable).
static int fmkit_probe(const char *path, char *ver, size_t verlen, char *msg, size_t msglen, void **handle) {
	void *h = dlopen(path, RTLD_LAZY | RTLD_LOCAL);
	if (h == NULL) {
		const char *e = dlerror();
		snprintf(msg, msglen, "%s", e ? e : "dlopen failed");
		return 1;
	}
	dlerror();
	fmkitGetApiBaseFn f = (fmkitGetApiBaseFn)dlsym(h, "OrtGetApiBase");
	if (f == NULL) {
		const char *e = dlerror();
		snprintf(msg, msglen, "%s", e ? e : "OrtGetApiBase not found");
		dlclose(h);
		return 2;
	}
	const fmkitApiBase *b = f();
	if (b == NULL || b->GetVersionString == NULL) {
		snprintf(msg, msglen, "OrtGetApiBase returned no version function");
		dlclose(h);
		return 3;
	}
	const char *v = b->GetVersionString();
	snprintf(ver, verlen, "%s", v ? v : "");
	*handle = h;
	return 0;
}

static void fmkit_close(void *h) {
	if (h != NULL) dlclose(h);
}
*/
import "C"

import (
	"errors"
	"unsafe"
)

// libHandle is a dlopen handle held by this package (see probeLibrary).
type libHandle unsafe.Pointer

// probeLibrary opens the shared library at path and reads its onnxruntime version before
// onnxruntime_go touches it. onnxruntime_go asks for API version 24 and, when the library is
// older, fails with a bare status code; the probe lets the error name the version found. On
// success the library stays open (the handle keeps onnxruntime_go's later dlopen of the same
// file from loading it anew); closeLibrary releases it.
func probeLibrary(path string) (string, libHandle, error) {
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	var ver [128]C.char
	var msg [1024]C.char
	var h unsafe.Pointer
	rc := C.fmkit_probe(cpath, &ver[0], C.size_t(len(ver)), &msg[0], C.size_t(len(msg)), &h)
	if rc != 0 {
		text := C.GoString(&msg[0])
		switch rc {
		case 2:
			return "", nil, errors.New("not an onnxruntime library (no OrtGetApiBase symbol): " + text)
		case 3:
			return "", nil, errors.New("not a usable onnxruntime library: " + text)
		}
		return "", nil, errors.New("cannot load: " + text)
	}
	return C.GoString(&ver[0]), libHandle(h), nil
}

// closeLibrary releases a handle from probeLibrary; nil is a no-op.
func closeLibrary(h libHandle) {
	C.fmkit_close(unsafe.Pointer(h))
}

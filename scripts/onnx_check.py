#!/usr/bin/python3
"""onnx_check.py: validate ONNX model files with the reference checker.

Usage: /usr/bin/python3 scripts/onnx_check.py FILE...

Runs onnx.checker.check_model(onnx.load(FILE), full_check=True) (which includes strict
shape inference) on each file. Prints one line per file and exits 1 if any file fails,
2 on usage errors or when the onnx module is missing.
"""
import sys


def main(argv):
    if len(argv) < 2:
        print("usage: onnx_check.py FILE...", file=sys.stderr)
        return 2
    try:
        import onnx
        import onnx.checker
    except ImportError as e:
        print(f"onnx_check: the onnx Python module is missing ({e}); use Debian's /usr/bin/python3 with python3-onnx",
              file=sys.stderr)
        return 2
    failed = 0
    for path in argv[1:]:
        try:
            model = onnx.load(path)
            onnx.checker.check_model(model, full_check=True)
        except Exception as e:  # the checker raises several exception types
            failed += 1
            msg = str(e).strip().replace("\n", " | ")
            print(f"{path}: FAIL: {type(e).__name__}: {msg}", file=sys.stderr)
            continue
        print(f"{path}: ok (onnx {onnx.__version__}, ir_version {model.ir_version}, "
              f"opset {[(o.domain or 'ai.onnx', o.version) for o in model.opset_import]})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

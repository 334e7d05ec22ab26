#!/bin/sh
# protoc plugin shim: runs the protoc-gen-go pinned by go.mod's tool directive.
exec go tool protoc-gen-go "$@"

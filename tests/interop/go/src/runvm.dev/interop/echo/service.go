// Package echo is the interop test service runvm.interop.v1.Echo, served over containerd's ttrpc.
package echo

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/containerd/ttrpc"
	"github.com/gogo/protobuf/types"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Names shared with the C++ side (tests/interop/echo_service.hpp).
const (
	Service        = "runvm.interop.v1.Echo"
	MethodEcho     = "Echo"
	MethodFail     = "Fail"
	MethodMetadata = "Metadata"
	MethodSleep    = "Sleep"
)

// ParseFail splits Fail's request "code:message" at the first colon.
func ParseFail(spec string) (codes.Code, string, error) {
	i := strings.IndexByte(spec, ':')
	if i < 0 {
		return 0, "", fmt.Errorf("Fail request %q has no colon", spec)
	}
	code, err := strconv.ParseUint(spec[:i], 10, 32)
	if err != nil {
		return 0, "", fmt.Errorf("Fail request %q: code: %v", spec, err)
	}
	return codes.Code(code), spec[i+1:], nil
}

// FormatMetadata lists metadata pairs as "k=v;k=v", sorted, so both servers answer alike.
func FormatMetadata(md ttrpc.MD) string {
	var pairs []string
	for k, values := range md {
		for _, v := range values {
			pairs = append(pairs, k+"="+v)
		}
	}
	sort.Strings(pairs)
	return strings.Join(pairs, ";")
}

// Register adds the Echo service's four methods to server.
func Register(server *ttrpc.Server) {
	server.Register(Service, map[string]ttrpc.Method{
		MethodEcho: func(ctx context.Context, unmarshal func(interface{}) error) (interface{}, error) {
			var req types.BytesValue
			if err := unmarshal(&req); err != nil {
				return nil, err
			}
			return &types.BytesValue{Value: req.Value}, nil
		},
		MethodFail: func(ctx context.Context, unmarshal func(interface{}) error) (interface{}, error) {
			var req types.StringValue
			if err := unmarshal(&req); err != nil {
				return nil, err
			}
			code, message, err := ParseFail(req.Value)
			if err != nil {
				return nil, status.Error(codes.InvalidArgument, err.Error())
			}
			return nil, status.Error(code, message)
		},
		MethodMetadata: func(ctx context.Context, unmarshal func(interface{}) error) (interface{}, error) {
			var req types.Empty
			if err := unmarshal(&req); err != nil {
				return nil, err
			}
			md, _ := ttrpc.GetMetadata(ctx)
			return &types.StringValue{Value: FormatMetadata(md)}, nil
		},
		// Sleep ignores the request's deadline on purpose: the client's own timeout is
		// what the deadline scenario checks, and the late response must be dropped.
		MethodSleep: func(ctx context.Context, unmarshal func(interface{}) error) (interface{}, error) {
			var req types.StringValue
			if err := unmarshal(&req); err != nil {
				return nil, err
			}
			ms, err := strconv.ParseUint(req.Value, 10, 32)
			if err != nil {
				return nil, status.Errorf(codes.InvalidArgument, "Sleep request %q: %v", req.Value, err)
			}
			time.Sleep(time.Duration(ms) * time.Millisecond)
			return &types.Empty{}, nil
		},
	})
}

// MessageLimit is ttrpc's bound on one encoded Request or Response (the frame's length).
const MessageLimit = 4 << 20

func varintSize(n int) int {
	size := 1
	for n >= 0x80 {
		n >>= 7
		size++
	}
	return size
}

// bytesField is the encoded size of a length-delimited field with a one-byte tag.
func bytesField(n int) int {
	if n == 0 {
		return 0
	}
	return 1 + varintSize(n) + n
}

// MaxEchoPayload is the largest Echo payload whose Request (with a timeout, 11 bytes at
// most) and Response (with an OK status, an empty message of 2 bytes) both fit in
// MessageLimit.
func MaxEchoPayload() int {
	for n := MessageLimit; n > 0; n-- {
		value := bytesField(n)
		request := bytesField(len(Service)) + bytesField(len(MethodEcho)) + bytesField(value) + 11
		response := 2 + bytesField(value)
		if request <= MessageLimit && response <= MessageLimit {
			return n
		}
	}
	return 0
}

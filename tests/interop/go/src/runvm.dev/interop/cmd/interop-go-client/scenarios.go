// The interop scenarios the Go client runs against a ttrpc server of runvm.interop.v1.Echo;
// tests/interop/cpp_client_scenarios.cpp runs the same list from C++.
package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/containerd/ttrpc"
	"github.com/gogo/protobuf/types"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"runvm.dev/interop/echo"
)

const callTimeout = 10 * time.Second

type scenario struct {
	name string
	run  func(*ttrpc.Client) error
}

var scenarios = []scenario{
	{"echo_small", echoSmall},
	{"echo_empty", echoEmpty},
	{"echo_max", echoMax},
	{"oversize", oversize},
	{"error_status", errorStatus},
	{"unimplemented", unimplemented},
	{"metadata", metadata},
	{"concurrent_100", concurrent100},
	{"deadline", deadline},
}

// codeOf maps a call's error to its status code; a client-side deadline is not a status.
func codeOf(err error) (codes.Code, string) {
	if errors.Is(err, context.DeadlineExceeded) {
		return codes.DeadlineExceeded, err.Error()
	}
	st, _ := status.FromError(err)
	return st.Code(), st.Message()
}

func pattern(n int, seed byte) []byte {
	p := make([]byte, n)
	for i := range p {
		p[i] = byte(i*31) ^ seed
	}
	return p
}

func callEcho(c *ttrpc.Client, ctx context.Context, payload []byte) error {
	var resp types.BytesValue
	if err := c.Call(ctx, echo.Service, echo.MethodEcho, &types.BytesValue{Value: payload}, &resp); err != nil {
		code, msg := codeOf(err)
		return fmt.Errorf("Echo of %d bytes: status %v %q", len(payload), code, msg)
	}
	if !bytes.Equal(resp.Value, payload) {
		return fmt.Errorf("Echo of %d bytes answered %d bytes that differ", len(payload), len(resp.Value))
	}
	return nil
}

func echoWithTimeout(c *ttrpc.Client, payload []byte) error {
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	return callEcho(c, ctx, payload)
}

func echoSmall(c *ttrpc.Client) error {
	return echoWithTimeout(c, []byte("hello interop\x00\xff\x01"))
}

func echoEmpty(c *ttrpc.Client) error { return echoWithTimeout(c, nil) }

func echoMax(c *ttrpc.Client) error {
	return echoWithTimeout(c, pattern(echo.MaxEchoPayload(), 0x5a))
}

func oversize(c *ttrpc.Client) error {
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	payload := pattern(echo.MessageLimit+1024, 0x33)
	var resp types.BytesValue
	err := c.Call(ctx, echo.Service, echo.MethodEcho, &types.BytesValue{Value: payload}, &resp)
	if code, msg := codeOf(err); code != codes.ResourceExhausted {
		return fmt.Errorf("Echo of %d bytes: want ResourceExhausted, got %v %q", len(payload), code, msg)
	}
	if err := echoWithTimeout(c, []byte("after oversize")); err != nil {
		return fmt.Errorf("connection unusable after oversize: %v", err)
	}
	return nil
}

func errorStatus(c *ttrpc.Client) error {
	cases := []struct {
		code    codes.Code
		message string
	}{
		{codes.InvalidArgument, "bad argument"},
		{codes.NotFound, "no such thing: here, with colons: and ünïcode"},
		{codes.Unavailable, ""},
	}
	for _, tc := range cases {
		ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
		req := &types.StringValue{Value: fmt.Sprintf("%d:%s", tc.code, tc.message)}
		err := c.Call(ctx, echo.Service, echo.MethodFail, req, &types.Empty{})
		cancel()
		code, msg := codeOf(err)
		if code != tc.code || msg != tc.message {
			return fmt.Errorf("Fail %q: want %v %q, got %v %q", req.Value, tc.code, tc.message, code, msg)
		}
	}
	return nil
}

func unimplemented(c *ttrpc.Client) error {
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	err := c.Call(ctx, echo.Service, "NoSuchMethod", &types.Empty{}, &types.Empty{})
	if code, msg := codeOf(err); code != codes.Unimplemented {
		return fmt.Errorf("NoSuchMethod: want Unimplemented, got %v %q", code, msg)
	}
	return nil
}

func metadata(c *ttrpc.Client) error {
	md := ttrpc.MD{}
	md.Set("x-runvm-b", "2", "3")
	md.Set("x-runvm-a", "1")
	ctx, cancel := context.WithTimeout(ttrpc.WithMetadata(context.Background(), md), callTimeout)
	defer cancel()
	var resp types.StringValue
	if err := c.Call(ctx, echo.Service, echo.MethodMetadata, &types.Empty{}, &resp); err != nil {
		code, msg := codeOf(err)
		return fmt.Errorf("Metadata: status %v %q", code, msg)
	}
	const want = "x-runvm-a=1;x-runvm-b=2;x-runvm-b=3"
	if resp.Value != want {
		return fmt.Errorf("Metadata: want %q, got %q", want, resp.Value)
	}
	return nil
}

func concurrent100(c *ttrpc.Client) error {
	const calls = 100
	errs := make([]error, calls)
	var wg sync.WaitGroup
	for i := 0; i < calls; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			payload := append([]byte(fmt.Sprintf("call %d:", i)), pattern(100+i*997, byte(i))...)
			errs[i] = echoWithTimeout(c, payload)
		}(i)
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			return fmt.Errorf("call %d of %d: %v", i, calls, err)
		}
	}
	return nil
}

func deadline(c *ttrpc.Client) error {
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := c.Call(ctx, echo.Service, echo.MethodSleep, &types.StringValue{Value: "500"}, &types.Empty{})
	elapsed := time.Since(start)
	if code, msg := codeOf(err); code != codes.DeadlineExceeded {
		return fmt.Errorf("Sleep 500 ms with a 100 ms deadline: want DeadlineExceeded, got %v %q", code, msg)
	}
	if elapsed > 400*time.Millisecond {
		return fmt.Errorf("Sleep 500 ms with a 100 ms deadline returned after %v", elapsed)
	}
	// The server still answers the abandoned call later; the connection must shrug it off.
	if err := echoWithTimeout(c, []byte("after deadline")); err != nil {
		return fmt.Errorf("connection unusable after a deadline: %v", err)
	}
	time.Sleep(500 * time.Millisecond)
	if err := echoWithTimeout(c, []byte("after the late response")); err != nil {
		return fmt.Errorf("connection unusable after the late response: %v", err)
	}
	return nil
}

// interop-go-server serves runvm.interop.v1.Echo with containerd's Go ttrpc on a Unix socket
// until SIGTERM or SIGINT.
package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/containerd/ttrpc"
	"runvm.dev/interop/echo"
)

func main() {
	socket := flag.String("socket", "", "Unix socket path to listen on")
	flag.Parse()
	if *socket == "" {
		fmt.Fprintln(os.Stderr, "interop-go-server: -socket is required")
		os.Exit(2)
	}

	server, err := ttrpc.NewServer()
	if err != nil {
		fmt.Fprintf(os.Stderr, "interop-go-server: ttrpc.NewServer: %v\n", err)
		os.Exit(1)
	}
	echo.Register(server)

	listener, err := net.Listen("unix", *socket)
	if err != nil {
		fmt.Fprintf(os.Stderr, "interop-go-server: listen %s: %v\n", *socket, err)
		os.Exit(1)
	}

	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT)
	served := make(chan error, 1)
	go func() { served <- server.Serve(context.Background(), listener) }()
	fmt.Fprintf(os.Stderr, "interop-go-server: listening on %s\n", *socket)

	select {
	case sig := <-signals:
		fmt.Fprintf(os.Stderr, "interop-go-server: %v, shutting down\n", sig)
	case err := <-served:
		fmt.Fprintf(os.Stderr, "interop-go-server: Serve: %v\n", err)
		os.Exit(1)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	// Shutdown waits for idle connections; a client still connected is closed after 2 s.
	if err := server.Shutdown(ctx); err != nil {
		server.Close()
	}
	os.Remove(*socket)
}

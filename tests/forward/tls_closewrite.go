// SPDX-License-Identifier: MIT
// tls_closewrite: a TLS 1.3 receiver that half-closes the way RFC 8446 6.1
// allows: right after its handshake it sends close_notify (CloseWrite) and a
// FIN, then
// reads the stream to stdout until the forwarder closes. OpenSSL clients
// cannot read after their own close_notify; Go's crypto/tls can.
// Usage: go run tls_closewrite.go ADDR CA.pem CLIENT.pem CLIENT.key
package main

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"log"
	"net"
	"os"
)

func main() {
	ca, err := os.ReadFile(os.Args[2])
	if err != nil {
		log.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca)
	cert, err := tls.LoadX509KeyPair(os.Args[3], os.Args[4])
	if err != nil {
		log.Fatal(err)
	}
	c, err := tls.Dial("tcp", os.Args[1], &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{cert},
		ServerName: "127.0.0.1", MinVersion: tls.VersionTLS13})
	if err != nil {
		log.Fatal(err)
	}
	if err := c.CloseWrite(); err != nil {
		log.Fatal(err)
	}
	if err := c.NetConn().(*net.TCPConn).CloseWrite(); err != nil { // and a FIN
		log.Fatal(err)
	}
	if _, err := io.Copy(os.Stdout, c); err != nil {
		log.Fatal(err)
	}
}

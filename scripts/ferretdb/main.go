// Command ferretdb is a tiny MongoDB-wire-protocol server for expbuf's tests and CI.
//
// No MongoDB server can be installed on the machines that run expbuf's tests
// (there is no Debian package for it, and nothing outside the package
// registries can be downloaded), so the tests talk to FerretDB instead:
// FerretDB v1 speaks the MongoDB wire protocol and stores the documents in
// SQLite or PostgreSQL. It is embedded here as a library because the binary
// that `go install github.com/FerretDB/FerretDB/cmd/ferretdb@v1.24.2` builds
// panics at start (the module zip lacks build/version/version.txt).
//
// scripts/mongo-server.mjs builds this program, starts it and stops it:
//
//	ferretdb -listen 127.0.0.1:0 -handler sqlite -sqlite-dir DIR -ready-file DIR/ready
//	ferretdb -listen 127.0.0.1:0 -handler postgresql -postgresql-url postgres://... -ready-file F
//
// Once the server answers a wire-protocol `ping` (which also checks the
// backend), the address it listens on (host:port, useful with port 0) is
// written to the -ready-file (removed again on exit). SIGTERM or SIGINT stops
// it cleanly. FerretDB's own logging goes to stderr at the -log-level
// (warnings by default, less the routine ones: see quietHandler).
package main

import (
	"context"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "TCP `address` to listen on (port 0 picks a free port)")
	handler := flag.String("handler", "sqlite", "backend: sqlite or postgresql")
	sqliteDir := flag.String("sqlite-dir", "", "`directory` (or file: URL) for the SQLite databases; created if missing")
	pgURL := flag.String("postgresql-url", "", "PostgreSQL connection `URL` for the postgresql handler")
	readyFile := flag.String("ready-file", "", "write the listen address to this `file` once the server accepts connections")
	readyTimeout := flag.Duration("ready-timeout", 30*time.Second, "give up when the server does not answer a ping within this `duration`")
	logLevel := flag.String("log-level", "warn", "FerretDB log level: debug, info, warn or error")
	flag.Parse()

	if flag.NArg() != 0 {
		fail(fmt.Errorf("unexpected arguments: %q", flag.Args()))
	}

	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		fail(fmt.Errorf("-log-level: %w", err))
	}
	var h slog.Handler = slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})
	if level >= slog.LevelWarn {
		h = quietHandler{h}
	}
	logger := slog.New(h)
	// Some of FerretDB's code logs through the default logger.
	slog.SetDefault(logger)

	config := &ferretdb.Config{
		Listener: ferretdb.ListenerConfig{TCP: *listen},
		Logger:   logger,
		Handler:  *handler,
	}

	switch *handler {
	case "sqlite":
		u, err := sqliteURL(*sqliteDir)
		if err != nil {
			fail(err)
		}
		config.SQLiteURL = u
	case "postgresql":
		if *pgURL == "" {
			fail(errors.New("-handler postgresql needs -postgresql-url"))
		}
		config.PostgreSQLURL = *pgURL
	default:
		fail(fmt.Errorf("-handler must be sqlite or postgresql, not %q", *handler))
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()

	f, err := ferretdb.New(config)
	if err != nil {
		fail(err)
	}

	done := make(chan error, 1)
	go func() { done <- f.Run(ctx) }()

	// New has bound the listener, so MongoDBURI does not block here.
	u, err := url.Parse(f.MongoDBURI())
	if err != nil {
		fail(err)
	}
	addr := u.Host

	if err := waitReady(ctx, addr, *readyTimeout); err != nil {
		signalled := ctx.Err() != nil
		stop()
		<-done
		if signalled {
			return
		}
		fail(err)
	}

	if *readyFile != "" {
		if err := writeFileAtomic(*readyFile, addr+"\n"); err != nil {
			stop()
			<-done
			fail(err)
		}
	}

	err = <-done
	if *readyFile != "" {
		_ = os.Remove(*readyFile) // not serving any more
	}
	if err != nil {
		fail(err)
	}
}

// quietHandler drops what FerretDB logs in the normal course of a test run: a
// dump of every error reply sent to a client (the client has it already; e.g.
// `endSessions`, which FerretDB lacks, on every client close), "Connection
// stopped" when a client resets its connection (as the Node.js driver does when
// it closes), and, with PostgreSQL, the failed SQL of every duplicate key
// (the client gets E11000).
type quietHandler struct{ slog.Handler }

func (q quietHandler) Handle(ctx context.Context, r slog.Record) error {
	if r.Message == "Query" && hasAttr(r, "(SQLSTATE 23505)") {
		return nil
	}
	if r.Level < slog.LevelError {
		if strings.HasPrefix(r.Message, "Response header: ") || strings.HasPrefix(r.Message, "Response message:") {
			return nil
		}
		if r.Message == "Connection stopped" && (hasAttr(r, "connection reset by peer") || hasAttr(r, "broken pipe")) {
			return nil
		}
	}
	return q.Handler.Handle(ctx, r)
}

// hasAttr tells whether an attribute of r contains s.
func hasAttr(r slog.Record, s string) bool {
	found := false
	r.Attrs(func(a slog.Attr) bool {
		found = strings.Contains(a.Value.String(), s)
		return !found
	})
	return found
}

func (q quietHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return quietHandler{q.Handler.WithAttrs(attrs)}
}

func (q quietHandler) WithGroup(name string) slog.Handler {
	return quietHandler{q.Handler.WithGroup(name)}
}

// fail prints err on one line (mongo-server.mjs looks for it) and exits.
func fail(err error) {
	fmt.Fprintf(os.Stderr, "ferretdb: %s\n", strings.Join(strings.Fields(err.Error()), " "))
	os.Exit(1)
}

// sqliteURL turns a directory or a file: URL into the file: URL (ending with
// "/") that FerretDB wants, creating the directory.
func sqliteURL(dir string) (string, error) {
	if dir == "" {
		return "", errors.New("-handler sqlite needs -sqlite-dir")
	}
	if strings.HasPrefix(dir, "file:") {
		return dir, nil // FerretDB checks it
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return "", err
	}
	return (&url.URL{Scheme: "file", Path: strings.TrimSuffix(abs, "/") + "/"}).String(), nil
}

func writeFileAtomic(path, content string) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(content), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// waitReady sends wire-protocol pings to addr until one succeeds.
func waitReady(ctx context.Context, addr string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	wait := 20 * time.Millisecond
	for {
		err := ping(addr)
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("server on %s did not answer ping within %s: %w", addr, timeout, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
		// Each failed ping is logged by FerretDB as a warning: back off so that a
		// backend that stays down does not flood the log.
		wait = min(2*wait, time.Second)
	}
}

// ping sends {ping: 1, $db: "admin"} as an OP_MSG and checks for {ok: 1}.
func ping(addr string) error {
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))

	// BSON {ping: int32(1), $db: "admin"}
	var doc []byte
	doc = append(doc, 0, 0, 0, 0)
	doc = append(doc, 0x10)
	doc = append(doc, "ping\x00"...)
	doc = binary.LittleEndian.AppendUint32(doc, 1)
	doc = append(doc, 0x02)
	doc = append(doc, "$db\x00"...)
	doc = binary.LittleEndian.AppendUint32(doc, uint32(len("admin")+1))
	doc = append(doc, "admin\x00"...)
	doc = append(doc, 0)
	binary.LittleEndian.PutUint32(doc, uint32(len(doc)))

	const opMsg = 2013
	msg := make([]byte, 16, 16+4+1+len(doc))
	msg = binary.LittleEndian.AppendUint32(msg, 0) // flagBits
	msg = append(msg, 0)                           // section kind 0: body
	msg = append(msg, doc...)
	binary.LittleEndian.PutUint32(msg[0:], uint32(len(msg)))
	binary.LittleEndian.PutUint32(msg[4:], 1) // requestID
	binary.LittleEndian.PutUint32(msg[12:], opMsg)
	if _, err := conn.Write(msg); err != nil {
		return err
	}

	var header [16]byte
	if _, err := io.ReadFull(conn, header[:]); err != nil {
		return err
	}
	n := binary.LittleEndian.Uint32(header[0:])
	if n < 16+4+1+5 || n > 1<<20 {
		return fmt.Errorf("ping: bad reply length %d", n)
	}
	if op := binary.LittleEndian.Uint32(header[12:]); op != opMsg {
		return fmt.Errorf("ping: reply has opCode %d", op)
	}
	body := make([]byte, n-16)
	if _, err := io.ReadFull(conn, body); err != nil {
		return err
	}
	if body[4] != 0 {
		return errors.New("ping: reply does not start with a body section")
	}
	ok, errmsg := bsonOK(body[5:])
	if !ok {
		if errmsg == "" {
			errmsg = "reply is not {ok: 1}"
		}
		return fmt.Errorf("ping: %s", errmsg)
	}
	return nil
}

// bsonOK reads the top-level "ok" and "errmsg" fields of a BSON document.
func bsonOK(doc []byte) (ok bool, errmsg string) {
	if len(doc) < 5 {
		return false, ""
	}
	end := int(binary.LittleEndian.Uint32(doc))
	if end > len(doc) {
		return false, ""
	}
	i := 4
	for i < end-1 {
		t := doc[i]
		i++
		j := i
		for j < end && doc[j] != 0 {
			j++
		}
		if j >= end {
			return ok, errmsg
		}
		name := string(doc[i:j])
		i = j + 1
		var size int
		switch t {
		case 0x01: // double
			if name == "ok" && i+8 <= end {
				ok = math.Float64frombits(binary.LittleEndian.Uint64(doc[i:])) == 1
			}
			size = 8
		case 0x10: // int32
			if name == "ok" && i+4 <= end {
				ok = binary.LittleEndian.Uint32(doc[i:]) == 1
			}
			size = 4
		case 0x12, 0x09, 0x11: // int64, datetime, timestamp
			if name == "ok" && t == 0x12 && i+8 <= end {
				ok = binary.LittleEndian.Uint64(doc[i:]) == 1
			}
			size = 8
		case 0x08: // bool
			if name == "ok" && i < end {
				ok = doc[i] == 1
			}
			size = 1
		case 0x02, 0x0D, 0x0E: // string, code, symbol
			if i+4 > end {
				return ok, errmsg
			}
			size = 4 + int(binary.LittleEndian.Uint32(doc[i:]))
			if name == "errmsg" && t == 0x02 && size >= 5 && i+size <= end {
				errmsg = string(doc[i+4 : i+size-1])
			}
		case 0x03, 0x04: // document, array
			if i+4 > end {
				return ok, errmsg
			}
			size = int(binary.LittleEndian.Uint32(doc[i:]))
		case 0x05: // binary
			if i+4 > end {
				return ok, errmsg
			}
			size = 5 + int(binary.LittleEndian.Uint32(doc[i:]))
		case 0x07: // ObjectId
			size = 12
		case 0x0A, 0x06, 0xFF, 0x7F: // null, undefined, min/max key
			size = 0
		case 0x13: // decimal128
			size = 16
		default:
			return ok, errmsg
		}
		i += size
	}
	return ok, errmsg
}

package observe

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
)

// maxDatagram is the largest UDP datagram the X-Ray daemon accepts.
const maxDatagram = 64 * 1024

// Segment is an X-Ray segment or subsegment document, as the X-Ray SDK
// sends it to the daemon.
type Segment struct {
	Name        string         `json:"name"`
	ID          string         `json:"id"`
	TraceID     string         `json:"trace_id"`
	Type        string         `json:"type"`
	Namespace   string         `json:"namespace"`
	StartTime   float64        `json:"start_time"`
	EndTime     float64        `json:"end_time"`
	InProgress  bool           `json:"in_progress"`
	Error       bool           `json:"error"`
	Fault       bool           `json:"fault"`
	Annotations map[string]any `json:"annotations"`
	AWS         map[string]any `json:"aws"`
	Subsegments []Segment      `json:"subsegments"`
}

// Walk calls fn on s and every subsegment below it, depth first.
func (s Segment) Walk(fn func(Segment)) {
	fn(s)
	for _, sub := range s.Subsegments {
		sub.Walk(fn)
	}
}

// XRayCollector listens on a UDP port of 127.0.0.1 as the X-Ray daemon
// does, and keeps every segment document sent to it. Give its Addr to a
// process as AWS_XRAY_DAEMON_ADDRESS.
type XRayCollector struct {
	// Addr is "127.0.0.1:<port>".
	Addr string

	conn     *net.UDPConn
	done     chan struct{}
	segments List[Segment]
}

// StartXRayCollector listens on a free UDP port.
func StartXRayCollector(ctx context.Context) (*XRayCollector, error) {
	pc, err := (&net.ListenConfig{}).ListenPacket(ctx, "udp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("x-ray collector listen: %w", err)
	}
	conn, ok := pc.(*net.UDPConn)
	if !ok {
		_ = pc.Close()
		return nil, fmt.Errorf("x-ray collector: unexpected connection %T", pc)
	}
	x := &XRayCollector{Addr: conn.LocalAddr().String(), conn: conn, done: make(chan struct{})}
	go x.serve()
	return x, nil
}

func (x *XRayCollector) serve() {
	defer close(x.done)
	buf := make([]byte, maxDatagram)
	for {
		n, _, err := x.conn.ReadFromUDP(buf)
		if err != nil {
			return // closed
		}
		if seg, err := ParseSegmentDatagram(buf[:n]); err != nil {
			x.segments.AddErr(err)
		} else {
			x.segments.Add(seg)
		}
	}
}

// ParseSegmentDatagram parses one datagram as the X-Ray SDKs send it to
// the daemon: a JSON header line {"format": "json", "version": 1}, a
// newline, then one segment document.
func ParseSegmentDatagram(data []byte) (Segment, error) {
	header, body, ok := bytes.Cut(data, []byte("\n"))
	if !ok {
		return Segment{}, errors.New("x-ray datagram has no header line")
	}
	var h struct {
		Format  string `json:"format"`
		Version int    `json:"version"`
	}
	if err := json.Unmarshal(header, &h); err != nil {
		return Segment{}, fmt.Errorf("x-ray datagram header %q: %w", header, err)
	}
	if h.Format != "json" || h.Version != 1 {
		return Segment{}, fmt.Errorf("x-ray datagram header %q: want format json, version 1", header)
	}
	var seg Segment
	if err := json.Unmarshal(body, &seg); err != nil {
		return Segment{}, fmt.Errorf("x-ray segment document: %w", err)
	}
	return seg, nil
}

// Segments returns the documents received so far, in arrival order.
func (x *XRayCollector) Segments() []Segment { return x.segments.All() }

// Errors returns the datagrams that could not be parsed, as errors.
func (x *XRayCollector) Errors() []error { return x.segments.Errors() }

// WaitFor waits until n received documents satisfy match (nil matches
// all) and returns them, or fails when ctx ends first.
func (x *XRayCollector) WaitFor(ctx context.Context, n int, match func(Segment) bool) ([]Segment, error) {
	return x.segments.WaitFor(ctx, n, match, "x-ray collector: segments")
}

// Close stops listening.
func (x *XRayCollector) Close() error {
	err := x.conn.Close()
	<-x.done
	if err != nil {
		return fmt.Errorf("close x-ray collector: %w", err)
	}
	return nil
}

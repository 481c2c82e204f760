package conformance

import (
	"fmt"
	"testing"

	"github.com/chatspec/chatspec/protocol"
)

func TestZZTimes(t *testing.T) {
	ms := allMutants(t)
	for _, r := range gradeAll(t, ms, protocol.FramingLine, "~@slow", fastPass) {
		fmt.Printf("%-26s %5.1fs %d failed\n", r.m.Name, r.rep.Elapsed.Seconds(), len(failedNames(r.rep)))
	}
}

package weir

import (
	"errors"
	"fmt"
)

// Error is why a handler failed for one event. Only that event fails: the rest of the
// batch commits, and the host retries or dead-letters the failed one. A handler may return
// any error; errors that are not (or do not wrap) an *Error are permanent.
type Error struct {
	// Message says what went wrong, for the dead-letter record and the logs.
	Message string
	// Retryable tells whether trying again may succeed (a transient condition).
	Retryable bool
}

func (e *Error) Error() string { return e.Message }

// Errorf is a permanent failure: retrying the same event gives the same result.
func Errorf(format string, args ...any) error {
	return &Error{Message: fmt.Sprintf(format, args...)}
}

// Retryable is a transient failure: the host may retry the event.
func Retryable(format string, args ...any) error {
	return &Error{Message: fmt.Sprintf(format, args...), Retryable: true}
}

// AsError turns any error into the message and retryability the host receives.
func AsError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		if e.Message == err.Error() {
			return e
		}
		return &Error{Message: err.Error(), Retryable: e.Retryable}
	}
	return &Error{Message: err.Error()}
}

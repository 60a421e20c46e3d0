//go:build race

package drift

// raceEnabled: under the race detector the simulations run fewer windows
// (their bounds follow the count), so that the package's tests fit the
// default test timeout; they exist there to find races, not to measure
// rates.
const raceEnabled = true

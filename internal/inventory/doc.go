// Package inventory holds the read-only queries the console shows: model
// buckets and their version timelines, backup recovery points and their
// age, replication lag and pending operations, DR fleets, alarms and the
// caller's identity. Every function takes a context and an
// awsx.ClientSource (the factory the step types use too, with its
// read-only guard and API-call observer) and returns plain values, so the
// console renders them without touching the SDK.
package inventory

package consumer

import (
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// SingleOwnerBalancer is the group balancer of driftwatch's consumers: it
// gives every partition of the topic to one member, the one that owned them
// in the previous generation if it is still in the group, else the first
// member in the group's order; the other members own nothing and stand by.
//
// A window holds the records of one model version from every partition, so
// a window built by two instances from half the partitions each would be
// two wrong windows. With one owner, every window is built by one instance
// from all of its records; a standby takes over when the owner leaves or
// dies (after kafka.session_timeout), re-reading from the committed offsets,
// which never run ahead of durable windows. The protocol is eager: on every
// rebalance the owner gives up all partitions and, when it gets them back,
// re-reads what it had not committed (see Kafka's reset of window state).
func SingleOwnerBalancer() kgo.GroupBalancer { return singleOwner{} }

// singleOwnerProtocol names the protocol in the group; members that do not
// speak it cannot join a driftwatch group by mistake.
const singleOwnerProtocol = "driftwatch-single-owner-v1"

type singleOwner struct{}

func (singleOwner) ProtocolName() string { return singleOwnerProtocol }
func (singleOwner) IsCooperative() bool  { return false }

func (singleOwner) JoinGroupMetadata(interests []string, owned map[string][]int32, generation int32) []byte {
	meta := kmsg.NewConsumerMemberMetadata()
	meta.Version = 3
	meta.Topics = interests
	meta.Generation = generation
	for topic, ps := range owned {
		op := kmsg.NewConsumerMemberMetadataOwnedPartition()
		op.Topic, op.Partitions = topic, ps
		meta.OwnedPartitions = append(meta.OwnedPartitions, op)
	}
	return meta.AppendTo(nil)
}

func (singleOwner) ParseSyncAssignment(assignment []byte) (map[string][]int32, error) {
	return kgo.ParseConsumerSyncAssignment(assignment)
}

func (s singleOwner) MemberBalancer(members []kmsg.JoinGroupResponseMember) (kgo.GroupMemberBalancer, map[string]struct{}, error) {
	b, err := kgo.NewConsumerBalancer(s, members)
	if err != nil {
		return nil, nil, err
	}
	return b, b.MemberTopics(), nil
}

// Balance assigns every partition of every topic to the owner: the member
// that owned partitions in the newest generation, or, when none did, the
// first member (members come sorted by instance id, then member id).
func (singleOwner) Balance(b *kgo.ConsumerBalancer, topics map[string]int32) kgo.IntoSyncAssignment {
	owner, _ := b.MemberAt(0)
	var ownerMeta *kmsg.ConsumerMemberMetadata
	_, ownerMeta = b.MemberAt(0)
	best := int32(-1)
	b.EachMember(func(m *kmsg.JoinGroupResponseMember, meta *kmsg.ConsumerMemberMetadata) {
		if len(meta.OwnedPartitions) > 0 && meta.Generation > best {
			owner, ownerMeta, best = m, meta, meta.Generation
		}
	})
	plan := b.NewPlan()
	for _, topic := range ownerMeta.Topics {
		n, ok := topics[topic]
		if !ok {
			continue
		}
		ps := make([]int32, n)
		for i := range ps {
			ps[i] = int32(i)
		}
		plan.AddPartitions(owner, topic, ps)
	}
	return plan
}

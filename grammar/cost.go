package grammar

// rest is the length of the shortest text that completes frame f. With
// child set, a frame above f is being read and the text is what f needs
// once that child completes (the child's own rest is counted by the
// child). Following the shortest completion byte by byte lowers the total
// (cost) by one per byte, which is what budget-aware closing relies on.
func (m *automaton) rest(f *frame, child bool) int {
	if f.key {
		return m.restKey(f)
	}
	n := f.n
	switch n.kind {
	case kObject:
		switch f.st {
		case oFresh:
			return n.min
		case oOpen:
			if int(n.firstReq[0]) == len(n.props) {
				return 1
			}
			return n.needKey[0]
		case oNeedKey:
			return n.needKey[f.a]
		case oKey:
			return 0 // the key frame counts the rest of the object
		case oColon:
			return sat(1 + n.valueNode(f.b).min + n.reqTail[n.after(f.b)])
		case oBeforeV:
			return sat(n.valueNode(f.b).min + n.reqTail[n.after(f.b)])
		case oValue:
			return n.reqTail[n.after(f.b)]
		case oAfterV:
			return n.reqTail[f.a]
		}
		return 0
	case kArray:
		per := sat(1 + n.items.min)
		switch f.st {
		case aFresh:
			return n.min
		case aOpen:
			if n.minItems == 0 {
				return 1
			}
			return sat(n.minItems * per)
		case aNeed:
			return sat(n.items.min + max(0, n.minItems-int(f.a)-1)*per + 1)
		case aItem:
			return sat(max(0, n.minItems-int(f.a)-1)*per + 1)
		case aAfter:
			return sat(max(0, n.minItems-int(f.a))*per + 1)
		}
		return 0
	case kString:
		need := max(0, n.minLen-int(f.a))
		switch f.st {
		case sFresh:
			return n.min
		case sBody:
			return sat(int(f.u8) + need + 1)
		case sEsc:
			return sat(1 + need + 1)
		case sHex:
			return sat(int(f.d) + need + 1)
		}
		return 0
	case kNumber:
		switch f.st {
		case nFresh, nMinus, nPoint, nE, nESign:
			return 1
		}
		return 0
	case kChoice:
		if f.st == 0 {
			return n.min
		}
		best := infinite
		for i := f.a; i <= f.b; i++ {
			c := len(n.lits[i]) - int(f.c)
			if n.conts != nil && n.conts[i] != nil {
				c += n.conts[i].min
			}
			best = min(best, c)
		}
		return best
	case kUnion:
		return n.min
	case kText:
		return restText(f)
	case kSeq:
		if child {
			return n.seqTail[f.a+1]
		}
		return n.seqTail[f.a]
	}
	return 0
}

// restKey is the rest of an object from inside one of its keys: the key,
// the colon, the value and the required properties after it.
func (m *automaton) restKey(f *frame) int {
	n := f.n
	pos := m.arena[f.parent].f.a
	switch f.st {
	case sFresh:
		return n.needKey[pos]
	case sDone:
		return sat(1 + n.valueNode(f.d).min + n.reqTail[n.after(f.d)])
	}
	pending := int(f.u8)
	switch f.st {
	case sEsc:
		pending = 1
	case sHex:
		pending = int(f.d)
	}
	best := infinite
	exact := false
	{
		for i := f.b; i <= f.c; i++ {
			j := n.keyIx[i]
			if len(n.keys[i]) == int(f.a) && f.st == sBody {
				exact = true
			}
			if n.candidate(pos, j) {
				// the rest of the name, ", :, the value, what follows
				best = min(best, sat(len(n.keys[i])-int(f.a)+2+n.props[j].node.min+n.reqTail[j+1]))
			}
		}
	}
	if n.freeKey(pos) {
		free := sat(pending + 2 + n.add.min + n.reqTail[len(n.props)])
		if exact {
			free++ // one more character, so as not to repeat a declared name
		}
		best = min(best, free)
	}
	return best
}

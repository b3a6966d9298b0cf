/** 2^256 − 1: the win-probability scale (not 2^256) and the largest value a uint256 field can hold. */
export const MAX_UINT256 = (1n << 256n) - 1n;

/** winProb denominator; a winProb of MAX_WIN_PROB wins unless the draw equals MAX_WIN_PROB itself. */
export const MAX_WIN_PROB = MAX_UINT256;

/** secp256k1 group order n. */
export const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

/** Largest accepted s (n/2): higher values are the malleable twin, refused by go-livepeer and OpenZeppelin. */
export const SECP256K1_HALF_N = SECP256K1_N >> 1n;

export const ADDRESS_LENGTH = 20;
export const HASH_LENGTH = 32;
/** r(32) ‖ s(32) ‖ v(1). */
export const SIGNATURE_LENGTH = 65;
/** auxData is either empty or u256(creationRound) ‖ creationRoundBlockHash. */
export const AUX_DATA_LENGTH = 64;

/** Replay guard cap per recipientRand (go-livepeer `maxSenderNonces`). */
export const MAX_SENDER_NONCES = 600;

/** B treats params as expired when `expirationBlock − lastSeenL1Block ≤ PARAMS_EXPIRY_BUFFER_BLOCKS`. */
export const PARAMS_EXPIRY_BUFFER_BLOCKS = 1n;

/** Largest senderNonce (it is a uint32 on the wire). */
export const MAX_SENDER_NONCE = 0xffff_ffff;

/** Largest int64 (creationRound and PriceInfo fields are int64 on the wire). */
export const MAX_INT64 = (1n << 63n) - 1n;

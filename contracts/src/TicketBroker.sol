// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import {Manager} from "./Manager.sol";
import {IBondingManager, IMinter, IRoundsManager} from "./Interfaces.sol";
import {BONDING_MANAGER_ID, MINTER_ID, ROUNDS_MANAGER_ID} from "./ContractIds.sol";

/**
 * Probabilistic micropayment broker with the exact external ABI, revert strings, check order and
 * semantics of Livepeer's live TicketBroker target, so off-chain services behave the same on a dev
 * chain and on Arbitrum One. Like Livepeer's, it makes exactly the Controller, RoundsManager,
 * BondingManager and Minter calls of the mainnet contract and resolves them by name on every call,
 * so it also runs on Livepeer's own deployment of those contracts.
 *
 * Senders lock ETH as a deposit (pays winning tickets first) and a reserve (a per-round, per-recipient
 * capped backstop when the deposit runs dry). Winning tickets are not paid in ETH: their value is
 * credited as fees in the BondingManager, which pays out through the Minter, where all ETH lives.
 */
contract TicketBroker is Manager {
    struct Ticket {
        address recipient;
        address sender;
        uint256 faceValue;
        uint256 winProb;
        uint256 senderNonce;
        bytes32 recipientRandHash;
        bytes auxData;
    }

    struct Sender {
        uint256 deposit;
        uint256 withdrawRound;
    }

    struct ReserveInfo {
        uint256 fundsRemaining;
        uint256 claimedInCurrentRound;
    }

    struct Reserve {
        uint256 funds;
        mapping(uint256 => uint256) claimedForRound;
        mapping(uint256 => mapping(address => uint256)) claimedByAddress;
    }

    // secp256k1n / 2. A larger s is the malleable twin of a valid signature; since the signature
    // bytes feed the lottery, accepting both would give the recipient two draws per ticket.
    uint256 private constant MAX_LOW_S = 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0;

    // Slots 1-6 follow Livepeer's layout (slot 0 is Manager.controller), so raw storage reads and
    // proxy upgrades stay compatible.
    /// Zero: this broker is deployed bare, not behind a ManagerProxy, as a bare mainnet target reports.
    bytes32 public targetContractId;
    mapping(address => Reserve) internal reserves;
    mapping(address => Sender) internal senders;
    /// In rounds.
    uint256 public unlockPeriod;
    /// Keyed by ticket hash, not signature, so a re-encoded signature cannot replay a ticket.
    mapping(bytes32 => bool) public usedTickets;
    /// In rounds.
    uint256 public ticketValidityPeriod;

    event DepositFunded(address indexed sender, uint256 amount);
    event ReserveFunded(address indexed reserveHolder, uint256 amount);
    event ReserveClaimed(address indexed reserveHolder, address claimant, uint256 amount);
    event WinningTicketRedeemed(
        address indexed sender,
        address indexed recipient,
        uint256 faceValue,
        uint256 winProb,
        uint256 senderNonce,
        uint256 recipientRand,
        bytes auxData
    );
    event WinningTicketTransfer(address indexed sender, address indexed recipient, uint256 amount);
    event Unlock(address indexed sender, uint256 startRound, uint256 endRound);
    event UnlockCancelled(address indexed sender);
    event Withdrawal(address indexed sender, uint256 deposit, uint256 reserve);

    constructor(address _controller) Manager(_controller) {}

    modifier currentRoundInitialized() {
        require(roundsManager().currentRoundInitialized(), "current round is not initialized");
        _;
    }

    // ------------------------------------------------------------------ funding

    function fundDeposit() external payable whenSystemNotPaused {
        creditDeposit(msg.sender, msg.value);
        depositToMinter();
        emit DepositFunded(msg.sender, msg.value);
    }

    function fundReserve() external payable whenSystemNotPaused {
        creditReserve(msg.sender, msg.value);
        depositToMinter();
    }

    function fundDepositAndReserve(uint256 _depositAmount, uint256 _reserveAmount) external payable {
        fundDepositAndReserveFor(msg.sender, _depositAmount, _reserveAmount);
    }

    /// Anyone may fund anyone; only the sender's own funding cancels its unlock.
    function fundDepositAndReserveFor(address _addr, uint256 _depositAmount, uint256 _reserveAmount)
        public
        payable
        whenSystemNotPaused
    {
        require(
            msg.value == _depositAmount + _reserveAmount,
            "msg.value does not equal sum of deposit amount and reserve amount"
        );
        creditDeposit(_addr, _depositAmount);
        creditReserve(_addr, _reserveAmount);
        depositToMinter();
        emit DepositFunded(_addr, _depositAmount);
    }

    // ------------------------------------------------------------------ unlock / withdraw

    /// Starts the countdown after which the sender may withdraw and its tickets stop being redeemable.
    function unlock() external whenSystemNotPaused {
        Sender storage sender = senders[msg.sender];
        require(sender.deposit > 0 || reserves[msg.sender].funds > 0, "sender deposit and reserve are zero");
        require(sender.withdrawRound == 0, "unlock already initiated");
        uint256 round = roundsManager().currentRound();
        sender.withdrawRound = round + unlockPeriod;
        emit Unlock(msg.sender, round, sender.withdrawRound);
    }

    function cancelUnlock() external whenSystemNotPaused {
        Sender storage sender = senders[msg.sender];
        require(sender.withdrawRound > 0, "no unlock request in progress");
        cancelUnlockOf(sender, msg.sender);
    }

    /// Pays out deposit and reserve. Like mainnet it leaves `withdrawRound` set: the sender stays
    /// "unlock in progress" until its own next funding (or cancelUnlock) clears it.
    function withdraw() external whenSystemNotPaused {
        Sender storage sender = senders[msg.sender];
        Reserve storage reserve = reserves[msg.sender];
        uint256 deposit = sender.deposit;
        uint256 reserveFunds = reserve.funds;
        require(deposit > 0 || reserveFunds > 0, "sender deposit and reserve are zero");
        require(sender.withdrawRound > 0, "no unlock request in progress");
        require(roundsManager().currentRound() >= sender.withdrawRound, "account is locked");

        sender.deposit = 0;
        // Only the funds are cleared; this round's claim bookkeeping survives, as on mainnet.
        reserve.funds = 0;
        minter().trustedWithdrawETH(payable(msg.sender), deposit + reserveFunds);
        emit Withdrawal(msg.sender, deposit, reserveFunds);
    }

    // ------------------------------------------------------------------ redemption

    /// Permissionless: anyone holding (ticket, sig, recipientRand) may redeem; value goes to the recipient.
    function redeemWinningTicket(Ticket calldata _ticket, bytes calldata _sig, uint256 _recipientRand)
        external
        whenSystemNotPaused
        currentRoundInitialized
    {
        bytes32 ticketHash = getTicketHash(_ticket);
        uint256 creationRound = requireWinningTicket(_ticket, ticketHash, _sig, _recipientRand);

        Sender storage sender = senders[_ticket.sender];
        require(isLocked(sender), "sender is unlocked");
        require(sender.deposit > 0 || reserves[_ticket.sender].funds > 0, "sender deposit and reserve are zero");

        // Set before paying; a revert further down (e.g. unregistered recipient) undoes it.
        usedTickets[ticketHash] = true;
        uint256 amount = debitSender(sender, _ticket);
        // Nothing to pay (faceValue 0, or deposit and allocation exhausted) still consumes the
        // ticket; redeemers spot underpayment by comparing the transfer with faceValue.
        if (amount > 0) {
            bondingManager().updateTranscoderWithFees(_ticket.recipient, amount, creationRound);
            emit WinningTicketTransfer(_ticket.sender, _ticket.recipient, amount);
        }
        emit WinningTicketRedeemed(
            _ticket.sender,
            _ticket.recipient,
            _ticket.faceValue,
            _ticket.winProb,
            _ticket.senderNonce,
            _recipientRand,
            _ticket.auxData
        );
    }

    /// Redeems each ticket in its own sub-call so one bad ticket cannot sink the rest. Failures are
    /// silent, as on mainnet: callers learn outcomes from WinningTicketRedeemed logs or usedTickets.
    /// Arrays are not length-checked; short `_sigs`/`_recipientRands` revert with Panic(0x32).
    function batchRedeemWinningTickets(
        Ticket[] calldata _tickets,
        bytes[] calldata _sigs,
        uint256[] calldata _recipientRands
    ) external whenSystemNotPaused currentRoundInitialized {
        for (uint256 i = 0; i < _tickets.length; i++) {
            bytes memory data = abi.encodeCall(this.redeemWinningTicket, (_tickets[i], _sigs[i], _recipientRands[i]));
            // The success flag is dropped on purpose, and return data is not copied.
            assembly ("memory-safe") {
                pop(call(gas(), address(), 0, add(data, 32), mload(data), 0, 0))
            }
        }
    }

    // ------------------------------------------------------------------ views

    function getSenderInfo(address _sender)
        external
        view
        returns (Sender memory sender, ReserveInfo memory reserve)
    {
        sender = senders[_sender];
        reserve = getReserveInfo(_sender);
    }

    /// `claimedInCurrentRound` is what all claimants together took from this reserve this round.
    function getReserveInfo(address _reserveHolder) public view returns (ReserveInfo memory info) {
        Reserve storage reserve = reserves[_reserveHolder];
        info = ReserveInfo(reserve.funds, reserve.claimedForRound[roundsManager().currentRound()]);
    }

    /// What `_claimant` can still take from `_reserveHolder`'s reserve this round (0 unless active).
    function claimableReserve(address _reserveHolder, address _claimant) external view returns (uint256) {
        return claimable(reserves[_reserveHolder], _claimant, roundsManager().currentRound());
    }

    /// What `_claimant` already took from `_reserveHolder`'s reserve this round.
    function claimedReserve(address _reserveHolder, address _claimant) external view returns (uint256) {
        return reserves[_reserveHolder].claimedByAddress[roundsManager().currentRound()][_claimant];
    }

    function isUnlockInProgress(address _sender) external view returns (bool) {
        return senders[_sender].withdrawRound > 0;
    }

    /// keccak256 of the packed fields; auxData is appended raw, without a length prefix.
    function getTicketHash(Ticket calldata _ticket) public pure returns (bytes32) {
        return keccak256(
            abi.encodePacked(
                _ticket.recipient,
                _ticket.sender,
                _ticket.faceValue,
                _ticket.winProb,
                _ticket.senderNonce,
                _ticket.recipientRandHash,
                _ticket.auxData
            )
        );
    }

    // ------------------------------------------------------------------ parameters

    /// Any value, including 0 (unlock then frees funds immediately).
    function setUnlockPeriod(uint256 _unlockPeriod) external onlyControllerOwner {
        unlockPeriod = _unlockPeriod;
        emit ParameterUpdate("unlockPeriod");
    }

    function setTicketValidityPeriod(uint256 _ticketValidityPeriod) external onlyControllerOwner {
        require(_ticketValidityPeriod > 0, "ticketValidityPeriod must be greater than 0");
        ticketValidityPeriod = _ticketValidityPeriod;
        emit ParameterUpdate("ticketValidityPeriod");
    }

    // ------------------------------------------------------------------ internals

    /// Every check a winning ticket must pass, in mainnet's order (it decides which revert string
    /// a caller sees). Returns the ticket's creation round.
    function requireWinningTicket(
        Ticket calldata _ticket,
        bytes32 _ticketHash,
        bytes calldata _sig,
        uint256 _recipientRand
    ) private view returns (uint256 creationRound) {
        require(_ticket.recipient != address(0), "ticket recipient is null address");
        require(_ticket.sender != address(0), "ticket sender is null address");
        creationRound = requireValidAuxData(_ticket.auxData);
        require(
            keccak256(abi.encodePacked(_recipientRand)) == _ticket.recipientRandHash,
            "recipientRand does not match recipientRandHash"
        );
        require(!usedTickets[_ticketHash], "ticket is used");
        // 65 bytes only: a 64-byte EIP-2098 encoding of the same signature would be a second draw.
        require(_sig.length == 65, "INVALID_SIGNATURE_LENGTH");
        require(
            recoverSigner(toEthSignedMessageHash(_ticketHash), _sig) == _ticket.sender,
            "invalid signature over ticket hash"
        );
        require(uint256(keccak256(abi.encodePacked(_sig, _recipientRand))) < _ticket.winProb, "ticket did not win");
    }

    /// auxData = creationRound (uint256) ‖ that round's block hash, which must match the RoundsManager's
    /// and still be within the validity period.
    function requireValidAuxData(bytes calldata _auxData) private view returns (uint256 creationRound) {
        require(_auxData.length == 64, "invalid length for ticket auxData: must be 64 bytes");
        bytes32 creationRoundBlockHash;
        (creationRound, creationRoundBlockHash) = abi.decode(_auxData, (uint256, bytes32));
        IRoundsManager rounds = roundsManager();
        bytes32 roundBlockHash = rounds.blockHashForRound(creationRound);
        require(roundBlockHash != bytes32(0), "ticket creationRound does not have a block hash");
        require(roundBlockHash == creationRoundBlockHash, "ticket creationRoundBlockHash invalid for creationRound");
        require(creationRound + ticketValidityPeriod > rounds.currentRound(), "ticket is expired");
    }

    /// Mirrors OpenZeppelin 4.4's ECDSA.recover (as in Livepeer's live build), including its revert
    /// strings and their order: high s, then bad v, then an unrecoverable signature.
    function recoverSigner(bytes32 _digest, bytes calldata _sig) private pure returns (address signer) {
        bytes32 r = bytes32(_sig[0:32]);
        bytes32 s = bytes32(_sig[32:64]);
        uint8 v = uint8(_sig[64]);
        require(uint256(s) <= MAX_LOW_S, "ECDSA: invalid signature 's' value");
        require(v == 27 || v == 28, "ECDSA: invalid signature 'v' value");
        signer = ecrecover(_digest, v, r, s);
        require(signer != address(0), "ECDSA: invalid signature");
    }

    /// EIP-191 personal-sign digest of a 32-byte message.
    function toEthSignedMessageHash(bytes32 _hash) private pure returns (bytes32) {
        return keccak256(abi.encodePacked("\x19Ethereum Signed Message:\n32", _hash));
    }

    /// Locked = tickets are still redeemable: no unlock, or its withdraw round not yet reached.
    function isLocked(Sender storage _sender) private view returns (bool) {
        return _sender.withdrawRound == 0 || roundsManager().currentRound() < _sender.withdrawRound;
    }

    /// Takes faceValue from the deposit, topping up from the recipient's reserve allocation when the
    /// deposit falls short. Returns what was taken; any remaining shortfall is simply not paid.
    function debitSender(Sender storage _sender, Ticket calldata _ticket) private returns (uint256) {
        uint256 deposit = _sender.deposit;
        if (_ticket.faceValue <= deposit) {
            _sender.deposit = deposit - _ticket.faceValue;
            return _ticket.faceValue;
        }
        _sender.deposit = 0;
        return deposit + claimFromReserve(_ticket.sender, _ticket.recipient, _ticket.faceValue - deposit);
    }

    function claimFromReserve(address _reserveHolder, address _claimant, uint256 _wanted)
        private
        returns (uint256 claimed)
    {
        uint256 round = roundsManager().currentRound();
        Reserve storage reserve = reserves[_reserveHolder];
        claimed = min(_wanted, claimable(reserve, _claimant, round));
        if (claimed == 0) return 0;
        reserve.funds -= claimed;
        reserve.claimedForRound[round] += claimed;
        reserve.claimedByAddress[round][_claimant] += claimed;
        emit ReserveClaimed(_reserveHolder, _claimant, claimed);
    }

    /// Each active recipient may take an equal share of the reserve as it stood when the round
    /// began: claims made earlier in the round are added back, so they don't shrink others' shares.
    function claimable(Reserve storage _reserve, address _claimant, uint256 _round) private view returns (uint256) {
        IBondingManager bonding = bondingManager();
        if (!bonding.isActiveTranscoder(_claimant)) return 0;
        uint256 poolSize = bonding.getTranscoderPoolSize();
        if (poolSize == 0) return 0;
        uint256 allocation = (_reserve.funds + _reserve.claimedForRound[_round]) / poolSize;
        uint256 alreadyClaimed = _reserve.claimedByAddress[_round][_claimant];
        // Deliberate deviation: if the pool grew mid-round, the allocation can fall below what this
        // claimant already took. Livepeer then reverts with an underflow (Panic 0x11) in this view
        // and in every redemption reaching the reserve; we clamp to 0 instead. Symmetrically, a pool
        // that shrank mid-round can push the allocation above the funds left, so we cap at those.
        if (allocation <= alreadyClaimed) return 0;
        return min(allocation - alreadyClaimed, _reserve.funds);
    }

    function creditDeposit(address _addr, uint256 _amount) private {
        senders[_addr].deposit += _amount;
        cancelUnlockIfSelfFunded(_addr);
    }

    function creditReserve(address _addr, uint256 _amount) private {
        reserves[_addr].funds += _amount;
        emit ReserveFunded(_addr, _amount);
        cancelUnlockIfSelfFunded(_addr);
    }

    /// Funding your own account means you keep using it, so it cancels your unlock. Third-party
    /// funding must not: before Livepeer's 2023 fix anyone could trap a sender's funds forever by
    /// funding it with 0 wei whenever it tried to unlock.
    function cancelUnlockIfSelfFunded(address _addr) private {
        Sender storage sender = senders[_addr];
        if (msg.sender == _addr && sender.withdrawRound > 0) cancelUnlockOf(sender, _addr);
    }

    function cancelUnlockOf(Sender storage _sender, address _addr) private {
        _sender.withdrawRound = 0;
        emit UnlockCancelled(_addr);
    }

    /// The broker holds no ETH: every wei received is parked in the Minter at once (even 0).
    function depositToMinter() private {
        minter().depositETH{value: msg.value}();
    }

    function roundsManager() private view returns (IRoundsManager) {
        return IRoundsManager(lookup(ROUNDS_MANAGER_ID));
    }

    function bondingManager() private view returns (IBondingManager) {
        return IBondingManager(lookup(BONDING_MANAGER_ID));
    }

    function minter() private view returns (IMinter) {
        return IMinter(lookup(MINTER_ID));
    }

    function min(uint256 _a, uint256 _b) private pure returns (uint256) {
        return _a < _b ? _a : _b;
    }
}

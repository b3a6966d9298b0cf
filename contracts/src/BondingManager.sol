// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import {Manager} from "./Manager.sol";
import {IMinter, IRoundsManager} from "./Interfaces.sol";
import {MINTER_ID, ROUNDS_MANAGER_ID, TICKET_BROKER_ID} from "./ContractIds.sol";

/**
 * Dev stand-in for Livepeer's BondingManager, reduced to the recipient registry the TicketBroker
 * needs: registered recipients may be paid, active ones may also claim from reserves. There is no
 * stake: activation is immediate and fees accrue to the recipient alone (no delegator split).
 * Only registered recipients can be credited, which is what stops a sender from draining its
 * own deposit to a sybil recipient ahead of an honest one.
 *
 * The active set is also mainnet's transcoder pool, walked with getFirstTranscoderInPool /
 * getNextTranscoderInPool (orchestrator discovery). Mainnet sorts it by stake; with no stake here
 * it is kept in activation order, as a doubly linked list so deactivation is O(1).
 */
contract BondingManager is Manager {
    mapping(address => bool) private registered;
    mapping(address => bool) private active;
    uint256 private activeCount;
    // The pool as a linked list of the active transcoders; zero ends it both ways.
    address private poolHead;
    address private poolTail;
    mapping(address => address) private poolNext;
    mapping(address => address) private poolPrev;
    // Private: mainnet has no such view, so neither may the stand-in (read pendingFees).
    mapping(address => uint256) private fees;

    event TranscoderActivated(address indexed transcoder, uint256 activationRound);
    event TranscoderDeactivated(address indexed transcoder, uint256 deactivationRound);
    event WithdrawFees(address indexed delegator, address recipient, uint256 amount);

    constructor(address _controller) Manager(_controller) {}

    /// Dev admin: makes `_transcoder` payable by tickets (idempotent).
    function register(address _transcoder) external onlyControllerOwner {
        registered[_transcoder] = true;
    }

    /// Dev admin: adds to or removes from the active set (the reserve claimants) immediately.
    function setActive(address _transcoder, bool _active) external onlyControllerOwner {
        require(registered[_transcoder], "transcoder must be registered");
        if (active[_transcoder] == _active) return;
        active[_transcoder] = _active;
        uint256 round = IRoundsManager(lookup(ROUNDS_MANAGER_ID)).currentRound();
        if (_active) {
            activeCount += 1;
            appendToPool(_transcoder);
            emit TranscoderActivated(_transcoder, round);
        } else {
            activeCount -= 1;
            removeFromPool(_transcoder);
            emit TranscoderDeactivated(_transcoder, round);
        }
    }

    /// Credits a redeemed ticket's value. `_round` is ignored, as on mainnet since LIP-36.
    function updateTranscoderWithFees(address _transcoder, uint256 _fees, uint256 /* _round */)
        external
        whenSystemNotPaused
    {
        require(msg.sender == lookup(TICKET_BROKER_ID), "caller must be TicketBroker");
        require(registered[_transcoder], "transcoder must be registered");
        fees[_transcoder] += _fees;
    }

    /// Pays the caller's accrued fees out of the Minter.
    function withdrawFees(address payable _recipient, uint256 _amount) external whenSystemNotPaused {
        require(_recipient != address(0), "invalid recipient");
        uint256 balance = fees[msg.sender];
        require(balance >= _amount, "insufficient fees to withdraw");
        fees[msg.sender] = balance - _amount;
        IMinter(lookup(MINTER_ID)).trustedWithdrawETH(_recipient, _amount);
        emit WithdrawFees(msg.sender, _recipient, _amount);
    }

    /// Mainnet's view of withdrawable fees; the stand-in has no per-round earnings, so `_endRound` is unused.
    function pendingFees(address _delegator, uint256 /* _endRound */) external view returns (uint256) {
        return fees[_delegator];
    }

    function isRegisteredTranscoder(address _transcoder) external view returns (bool) {
        return registered[_transcoder];
    }

    function isActiveTranscoder(address _transcoder) external view returns (bool) {
        return active[_transcoder];
    }

    /// Size of the active set: the divisor of every reserve allocation, and the pool's length.
    function getTranscoderPoolSize() external view returns (uint256) {
        return activeCount;
    }

    /// Zero address when the pool is empty.
    function getFirstTranscoderInPool() external view returns (address) {
        return poolHead;
    }

    /// Zero address after the last transcoder, and for an address not in the pool (as on mainnet).
    function getNextTranscoderInPool(address _transcoder) external view returns (address) {
        return poolNext[_transcoder];
    }

    // Callers keep membership in step with `active`: each is called once per state change.
    function appendToPool(address _transcoder) private {
        address tail = poolTail;
        poolPrev[_transcoder] = tail;
        if (tail == address(0)) poolHead = _transcoder;
        else poolNext[tail] = _transcoder;
        poolTail = _transcoder;
    }

    function removeFromPool(address _transcoder) private {
        address prev = poolPrev[_transcoder];
        address next = poolNext[_transcoder];
        if (prev == address(0)) poolHead = next;
        else poolNext[prev] = next;
        if (next == address(0)) poolTail = prev;
        else poolPrev[next] = prev;
        // Cleared so a deactivated address reads as outside the pool, and re-activation starts clean.
        delete poolNext[_transcoder];
        delete poolPrev[_transcoder];
    }
}

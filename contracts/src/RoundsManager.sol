// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import {Manager} from "./Manager.sol";

/**
 * Dev stand-in for Livepeer's RoundsManager: rounds of `roundLength` blocks that someone must
 * explicitly initialize, which snapshots the previous block's hash as the round's ticket anchor.
 * Unlike mainnet it has no BondingManager/Minter side effects on initialization.
 */
contract RoundsManager is Manager {
    uint256 public roundLength;
    uint256 public lastInitializedRound;
    // currentRound() counts from the last length change, so changing the length never moves
    // the round number backwards or skips one.
    uint256 public lastRoundLengthUpdateRound;
    uint256 public lastRoundLengthUpdateStartBlock;
    mapping(uint256 => bytes32) private roundBlockHashes;

    event NewRound(uint256 indexed round, bytes32 blockHash);

    constructor(address _controller) Manager(_controller) {}

    /// The new length applies from the start of the current round.
    function setRoundLength(uint256 _roundLength) external onlyControllerOwner {
        require(_roundLength > 0, "round length cannot be 0");
        // The very first length defines round 0 from block 0, so rounds start at multiples of it.
        if (roundLength == 0) roundLength = _roundLength;
        lastRoundLengthUpdateRound = currentRound();
        lastRoundLengthUpdateStartBlock = currentRoundStartBlock();
        roundLength = _roundLength;
        emit ParameterUpdate("roundLength");
    }

    /// Anyone may initialize a new round; redemptions revert until somebody does.
    function initializeRound() external whenSystemNotPaused {
        uint256 round = currentRound();
        // Also makes round 0 impossible to initialize, as on mainnet.
        require(lastInitializedRound < round, "round already initialized");
        lastInitializedRound = round;
        bytes32 hash = blockhash(block.number - 1);
        roundBlockHashes[round] = hash;
        emit NewRound(round, hash);
    }

    function blockNum() public view returns (uint256) {
        return block.number;
    }

    function currentRound() public view returns (uint256) {
        return lastRoundLengthUpdateRound + (blockNum() - lastRoundLengthUpdateStartBlock) / roundLength;
    }

    function currentRoundStartBlock() public view returns (uint256) {
        return lastRoundLengthUpdateStartBlock + (currentRound() - lastRoundLengthUpdateRound) * roundLength;
    }

    function currentRoundInitialized() external view returns (bool) {
        return lastInitializedRound == currentRound();
    }

    /// Zero for rounds never initialized, including future ones.
    function blockHashForRound(uint256 _round) external view returns (bytes32) {
        return roundBlockHashes[_round];
    }
}

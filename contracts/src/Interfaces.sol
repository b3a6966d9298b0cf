// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

// The exact external surface each contract relies on from its neighbours. Selectors match
// Livepeer's mainnet contracts, so our TicketBroker also runs against the real ones.

interface IController {
    function owner() external view returns (address);

    function paused() external view returns (bool);

    function getContract(bytes32 _id) external view returns (address);
}

interface IManager {
    function setController(address _controller) external;
}

interface IRoundsManager {
    function currentRound() external view returns (uint256);

    function currentRoundInitialized() external view returns (bool);

    function blockHashForRound(uint256 _round) external view returns (bytes32);
}

interface IBondingManager {
    function isActiveTranscoder(address _transcoder) external view returns (bool);

    function getTranscoderPoolSize() external view returns (uint256);

    function updateTranscoderWithFees(address _transcoder, uint256 _fees, uint256 _round) external;
}

interface IMinter {
    function depositETH() external payable returns (bool);

    function trustedWithdrawETH(address payable _to, uint256 _amount) external;
}

namespace EdgeProfile.Federated.SecureAggregation;

/// <summary>Where a <see cref="SecAggServer"/> is in its round.</summary>
public enum SecAggStage
{
    /// <summary>Collecting <see cref="SecAggAdvertisement"/>s.</summary>
    AdvertisingKeys,

    /// <summary>Collecting <see cref="SecAggEncryptedShare"/>s.</summary>
    SharingKeys,

    /// <summary>Collecting <see cref="SecAggMaskedInput"/>s.</summary>
    MaskingInputs,

    /// <summary>Collecting <see cref="SecAggUnmaskResponse"/>s.</summary>
    Unmasking,

    /// <summary>The sum was computed.</summary>
    Completed,

    /// <summary>The round failed; see <see cref="SecAggServer.FailureReason"/>.</summary>
    Failed,
}

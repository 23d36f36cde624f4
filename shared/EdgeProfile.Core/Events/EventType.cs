namespace EdgeProfile.Core.Events;

/// <summary>The v1 event types of contracts.md §1.</summary>
public enum EventType
{
    View,
    Search,
    AddToCart,
    RemoveFromCart,
    Purchase,
    Return,
    Review,
    Like,
    VideoWatch,
    Visit,
    LoyaltyScan,
    AppOpen,
    CouponRedeem,
}

package sdj.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Which arrays a scope hands back, which it must not, and that a reused one reads as a fresh one. */
class ActivationArenaTest {
    private static final float[] A = {1, 2, 3, 4};
    private ActivationArena.Mode before;

    @BeforeEach
    void arenaOn() {
        before = ActivationArena.use(ActivationArena.Mode.ON);
    }

    @AfterEach
    void restore() {
        ActivationArena.use(before);
    }

    private static Tensor a() {
        return Tensor.of(A.clone(), 4);
    }

    @Test
    void anArrayTheResultCannotReachIsReusedZeroFilledByTheNextScope() {
        try (var g = Autograd.noGrad()) {
            Tensor a = a();
            float[] temporary;
            Tensor kept;
            try (var scope = ActivationArena.open()) {
                Tensor doubled = a.add(a);
                temporary = doubled.storage().heapFloats();
                kept = scope.keep(doubled.add(a));
            }
            try (var scope = ActivationArena.open()) {
                float[] reused = ActivationArena.floats(4);
                assertSame(temporary, reused, "the temporary of the closed scope comes back");
                assertArrayEquals(new float[4], reused, "and reads as zeros, like a new array");
                Tensor squared = scope.keep(a.mul(a));
                assertArrayEquals(new float[] {1, 4, 9, 16}, squared.toFloatArray());
            }
            assertArrayEquals(new float[] {3, 6, 9, 12}, kept.toFloatArray(), "the kept result was not reused");
        }
    }

    @Test
    void aKeptViewKeepsItsWholeStorage() {
        try (var g = Autograd.noGrad()) {
            Tensor a = a();
            float[] storage;
            Tensor middle;
            try (var scope = ActivationArena.open()) {
                Tensor doubled = a.add(a);
                storage = doubled.storage().heapFloats();
                middle = scope.keep(doubled.narrow(0, 1, 2));
            }
            try (var scope = ActivationArena.open()) {
                assertNotSame(storage, ActivationArena.floats(4));
                scope.keep(a.mul(a));
            }
            assertArrayEquals(new float[] {4, 6}, middle.toFloatArray());
        }
    }

    @Test
    void theResultMovesToTheEnclosingScopeWhichRecyclesItWhenItsOwnResultIsDone() {
        try (var g = Autograd.noGrad()) {
            Tensor a = a();
            float[] inner;
            try (var outer = ActivationArena.open()) {
                Tensor innerResult;
                try (var scope = ActivationArena.open()) {
                    innerResult = scope.keep(a.add(a));
                }
                inner = innerResult.storage().heapFloats();
                assertNotSame(inner, ActivationArena.floats(4), "still the outer scope's: not free yet");
                outer.keep(innerResult.sum());
            }
            try (var scope = ActivationArena.open()) {
                float[] next = ActivationArena.floats(4);
                float[] afterThat = ActivationArena.floats(4);
                assertTrue(next == inner || afterThat == inner, "the outer scope handed the inner result back");
                scope.keep(a);
            }
        }
    }

    /** a + a as the kept result of a scope of its own: an array of the enclosing scope from then on. */
    private static Tensor doubledInAScope(Tensor a) {
        try (var scope = ActivationArena.open()) {
            return scope.keep(a.add(a));
        }
    }

    @Test
    void aChainedLayerRecyclesTheOutputItAdoptedOnceItHasReadIt() {
        try (var g = Autograd.noGrad()) {
            Tensor a = a();
            try (var outer = ActivationArena.open()) {
                Tensor first = doubledInAScope(a);
                float[] firstArray = first.storage().heapFloats();
                Tensor second;
                try (var scope = ActivationArena.open()) {
                    scope.adopt(first);
                    assertSame(a, scope.adopt(a), "the caller's input is returned and left alone");
                    second = scope.keep(first.add(a));
                }
                assertArrayEquals(new float[] {3, 6, 9, 12}, second.toFloatArray());
                try (var scope = ActivationArena.open()) {
                    assertSame(firstArray, ActivationArena.floats(4), "the adopted output is free once read");
                    assertNotSame(a.storage().heapFloats(), ActivationArena.floats(4), "the input never is");
                    scope.keep(a);
                }
                outer.keep(second);
            }
        }
    }

    @Test
    void anAdoptedArrayThatTheResultReachesIsKept() {
        try (var g = Autograd.noGrad()) {
            Tensor a = a();
            try (var outer = ActivationArena.open()) {
                Tensor first = doubledInAScope(a);
                Tensor view;
                try (var scope = ActivationArena.open()) {
                    view = scope.keep(scope.adopt(first).narrow(0, 0, 2));
                }
                try (var scope = ActivationArena.open()) {
                    assertNotSame(first.storage().heapFloats(), ActivationArena.floats(4));
                    scope.keep(a);
                }
                assertArrayEquals(new float[] {2, 4}, outer.keep(view).toFloatArray());
            }
        }
    }

    @Test
    void withGradOnAScopeRecordsNothingSoTheTapeKeepsWhatItSaved() {
        Tensor w = Tensor.of(new float[] {1, 1, 1, 1}, 4).requiresGrad(true);
        Tensor a = a();
        float[] saved;
        Tensor loss;
        try (var scope = ActivationArena.open()) {
            Tensor doubled = a.add(a);
            saved = doubled.storage().heapFloats();
            loss = scope.keep(doubled.mul(w).sum());
        }
        try (var g = Autograd.noGrad(); var scope = ActivationArena.open()) {
            assertNotSame(saved, ActivationArena.floats(4));
            scope.keep(a);
        }
        loss.backward();
        assertArrayEquals(new float[] {2, 4, 6, 8}, w.grad().toFloatArray());
    }

    @Test
    void anEnableGradInsideANoGradScopeKeepsTheInputsItsTapeSaved() {
        Tensor w = Tensor.of(new float[] {1, 1, 1, 1}, 4).requiresGrad(true);
        Tensor a = a();
        float[] saved;
        Tensor loss;
        try (var g = Autograd.noGrad()) {
            try (var scope = ActivationArena.open()) {
                Tensor doubled = a.add(a); // recorded: grad is off here
                saved = doubled.storage().heapFloats();
                try (var on = Autograd.enableGrad()) {
                    loss = scope.keep(doubled.mul(w).sum()); // the tape saves doubled
                }
            }
            try (var scope = ActivationArena.open()) {
                assertNotSame(saved, ActivationArena.floats(4));
                scope.keep(a);
            }
        }
        loss.backward();
        assertArrayEquals(new float[] {2, 4, 6, 8}, w.grad().toFloatArray());
    }

    @Test
    void aScopeLeftWithoutAResultRecyclesNothing() {
        try (var g = Autograd.noGrad()) {
            Tensor a = a();
            float[] first;
            try (var scope = ActivationArena.open()) {
                first = a.add(a).storage().heapFloats(); // as if an exception left before keep
            }
            try (var scope = ActivationArena.open()) {
                assertNotSame(first, ActivationArena.floats(4));
                scope.keep(a);
            }
        }
    }

    @Test
    void checkModePoisonsWhatAScopeReleasesSoAStaleReaderSeesNaN() {
        ActivationArena.use(ActivationArena.Mode.CHECK);
        try (var g = Autograd.noGrad()) {
            Tensor a = a();
            Tensor leaked;
            try (var scope = ActivationArena.open()) {
                leaked = a.add(a); // escapes without keep: a bug check mode is there to show
                scope.keep(a.mul(a));
            }
            for (float v : leaked.toFloatArray()) {
                assertTrue(Float.isNaN(v), "released array poisoned");
            }
        }
    }

    @Test
    void offModeHandsOutFreshArrays() {
        ActivationArena.use(ActivationArena.Mode.OFF);
        try (var g = Autograd.noGrad()) {
            Tensor a = a();
            float[] first;
            try (var scope = ActivationArena.open()) {
                Tensor doubled = a.add(a);
                first = doubled.storage().heapFloats();
                scope.keep(a);
            }
            assertEquals(0, ActivationArena.pooledBytes());
            assertNotSame(first, ActivationArena.floats(4));
        }
    }

    @Test
    void scopesClosedOutOfOrderAreRefused() {
        try (var g = Autograd.noGrad()) {
            var outer = ActivationArena.open();
            var inner = ActivationArena.open();
            IllegalStateException e = assertThrows(IllegalStateException.class, outer::close);
            assertTrue(e.getMessage().contains("innermost"), e.getMessage());
            inner.close();
            outer.close();
        }
    }

    @Test
    void anUnknownModeIsNamedInTheError() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ActivationArena.parseMode("sometimes"));
        assertTrue(e.getMessage().contains("-Dsdj.arena=sometimes") && e.getMessage().contains("on, off or check"),
                e.getMessage());
    }
}

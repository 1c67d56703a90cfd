// Tests of worker_pool.hpp: a handler that waits does not stall the loop, spare threads
// are reused and then leave, the pool stops cleanly.
#include <cgihttp/worker_pool.hpp>

#include <asio/post.hpp>
#include <asio/steady_timer.hpp>

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <thread>

using namespace std::chrono_literals;

TEST_CASE("a waiting handler does not stall the others, even with one loop thread") {
    asio::io_context io;
    cgihttp::worker_pool pool(io, 1, 8, 100ms);
    std::promise<void> release;
    std::shared_future<void> released = release.get_future().share();
    std::atomic<int> quick_done{0};
    asio::post(io, [&] {
        cgihttp::blocking_scope waiting; // as a socket wait or a CGI script would
        released.wait();
    });
    for (int i = 0; i < 5; ++i)
        asio::post(io, [&] { ++quick_done; });
    asio::post(io, [&] {
        // Everything else ran while the first task waited; now let it finish.
        while (quick_done.load() < 5)
            std::this_thread::sleep_for(1ms);
        release.set_value();
    });
    std::thread stopper([&] {
        released.wait();
        std::this_thread::sleep_for(20ms);
        io.stop();
    });
    pool.run();
    stopper.join();
    CHECK(quick_done.load() == 5);
    CHECK(pool.thread_count() == 0);
}

TEST_CASE("spare threads are reused for later waits, then leave when unused") {
    asio::io_context io;
    cgihttp::worker_pool pool(io, 1, 8, 150ms);
    std::atomic<std::size_t> peak{0};
    std::atomic<std::size_t> after_idle{99};
    std::atomic<int> waits{0};
    asio::steady_timer timer(io);
    // Ten waits one after the other: each needs one stand-in thread, which can be reused.
    std::function<void()> next = [&] {
        if (waits.load() == 10) {
            timer.expires_after(500ms); // longer than the park timeout
            timer.async_wait([&](std::error_code) {
                after_idle = pool.thread_count();
                io.stop();
            });
            return;
        }
        ++waits;
        {
            cgihttp::blocking_scope waiting;
            std::this_thread::sleep_for(5ms);
            peak = std::max(peak.load(), pool.thread_count());
        }
        asio::post(io, next);
    };
    asio::post(io, next);
    pool.run();
    CHECK(waits.load() == 10);
    CHECK(peak.load() <= 3);       // reused, not one new thread per wait
    CHECK(after_idle.load() == 1); // the spare left after the park timeout
}

TEST_CASE("the pool never exceeds max_threads") {
    asio::io_context io;
    cgihttp::worker_pool pool(io, 1, 3, 100ms);
    std::atomic<std::size_t> peak{0};
    std::atomic<int> finished{0};
    for (int i = 0; i < 8; ++i) {
        asio::post(io, [&] {
            cgihttp::blocking_scope waiting;
            std::this_thread::sleep_for(30ms);
            peak = std::max(peak.load(), pool.thread_count());
            if (++finished == 8) io.stop();
        });
    }
    pool.run();
    CHECK(finished.load() == 8);
    CHECK(peak.load() <= 3);
}
